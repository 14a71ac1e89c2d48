"""Diagonal Gaussian densities shared by the latent-variable models."""

import math

import tensorflow as tf

from tfflows.data.dequantization import per_example_noise
from tfflows.layers import standard_normal

__all__ = [
    "gaussian_log_prob",
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

    `seed`: None (fresh), per-row seeds `[N, 2]` (`GenerativeModel.noise_seeds`;
    row n's noise from `seed[n]` alone, no `sample_shape`), or one seed for the
    whole tensor, offset by one so the latent noise differs from the
    dequantization noise drawn with the same seed.
    """
    if seed is not None and tf.convert_to_tensor(seed).shape.rank == 2:
        eps = per_example_noise(seed, tf.shape(mean)[1:], "normal", mean.dtype)
        return mean + tf.exp(log_scale) * eps
    shape = tf.concat([sample_shape, tf.shape(mean)], axis=0)
    seed = None if seed is None else tf.cast(seed, tf.int64) + 1
    return mean + tf.exp(log_scale) * standard_normal(shape, seed, mean.dtype)
