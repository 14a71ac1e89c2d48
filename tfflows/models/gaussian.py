"""Diagonal Gaussian densities shared by the latent-variable models."""

import math

import tensorflow as tf

from tfflows.layers import standard_normal
from tfflows.metrics.bounds import importance_weighted_bound

__all__ = [
    "gaussian_log_prob",
    "importance_weighted_log_prob",
    "kl_to_standard_normal",
    "reparameterized_sample",
    "standard_normal_log_prob",
]


def gaussian_log_prob(x, mean, log_scale, event_ndims):
    """`log N(x; mean, exp(log_scale)^2 I)` summed over the last `event_ndims` axes.

    `= -0.5 ((x - mean) / scale)^2 - log scale - 0.5 log(2 pi)` per dimension.
    """
    log_scale = tf.broadcast_to(tf.cast(log_scale, x.dtype), tf.shape(x))
    z = (x - mean) * tf.exp(-log_scale)
    per_dim = -0.5 * tf.square(z) - log_scale - 0.5 * math.log(2.0 * math.pi)
    return tf.reduce_sum(per_dim, axis=list(range(-event_ndims, 0)))


def standard_normal_log_prob(x, event_ndims):
    """`log N(x; 0, I)` summed over the last `event_ndims` axes."""
    return gaussian_log_prob(x, tf.zeros_like(x), tf.zeros([], x.dtype), event_ndims)


def kl_to_standard_normal(mean, log_scale):
    """`KL(N(mean, exp(log_scale)^2) || N(0, I))` over the last axis (Kingma & Welling, app. B).

    `= 0.5 * sum(mean^2 + sigma^2 - 1 - 2 log sigma)`.
    """
    return 0.5 * tf.reduce_sum(
        tf.square(mean) + tf.exp(2.0 * log_scale) - 1.0 - 2.0 * log_scale, axis=-1
    )


def reparameterized_sample(mean, log_scale, seed=None, sample_shape=()):
    """`z = mean + exp(log_scale) * eps`, `eps ~ N(0, I)` of shape `sample_shape + mean.shape`.

    A given seed is offset by one, so the latent noise differs from the
    dequantization noise drawn with the same seed.
    """
    shape = tf.concat([sample_shape, tf.shape(mean)], axis=0)
    seed = None if seed is None else tf.cast(seed, tf.int64) + 1
    return mean + tf.exp(log_scale) * standard_normal(shape, seed, mean.dtype)


def importance_weighted_log_prob(y, mean, log_scale, num_samples, joint_log_prob, seed=None):
    """The importance-weighted bound (Burda et al.) of `log p(y)` per example, in nats.

    With `K = num_samples` latents `z_k ~ q(z|y) = N(mean, exp(log_scale)^2)`
    (vectors `[N, d]`) and `joint_log_prob(y, z) = log p(y, z)` per example:
    `log (1/K) sum_k exp(log p(y, z_k) - log q(z_k | y))`.
    """
    z = reparameterized_sample(mean, log_scale, seed, [num_samples])  # [K, N, d]
    flat_z = tf.reshape(z, [-1, z.shape[-1]])
    flat_y = tf.tile(y, tf.concat([[num_samples], tf.ones([tf.rank(y) - 1], tf.int32)], 0))
    joint = tf.reshape(joint_log_prob(flat_y, flat_z), [num_samples, -1])
    log_weights = joint - gaussian_log_prob(z, mean, log_scale, 1)
    return importance_weighted_bound(log_weights).value
