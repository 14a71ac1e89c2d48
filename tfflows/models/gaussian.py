"""Diagonal Gaussian densities shared by the latent-variable models.

TFP computes what it can: the standard normal's log-density and the KL to
`N(0, I)` are `tfd.Normal`'s (both compile under XLA and keep the caller's
dtype, float64 and the float32 bounds of mixed precision alike). The density
of a Gaussian with a learned scale is not, see `gaussian_log_prob`.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp

from tfflows.data.dequantization import per_example_noise
from tfflows.layers import standard_normal

__all__ = [
    "gaussian_log_prob",
    "kl_to_standard_normal",
    "reparameterized_sample",
    "standard_normal_log_prob",
]

tfd = tfp.distributions


def _sum_event(values, event_ndims):
    return tf.reduce_sum(values, axis=list(range(-event_ndims, 0)))


def _standard_normal(dtype):
    return tfd.Normal(tf.zeros([], dtype), tf.ones([], dtype))


def gaussian_log_prob(x, mean, log_scale, event_ndims):
    """`log N(x; mean, exp(log_scale)^2 I)` summed over the last `event_ndims` axes.

    `= -0.5 ((x - mean) / scale)^2 - log scale - 0.5 log(2 pi)` per dimension.

    Not `tfd.Normal(mean, exp(log_scale)).log_prob(x)`: TFP divides `x` and
    `mean` by the scale before subtracting them, so with a small scale (a sharp
    decoder, the two-stage VAE's learned `gamma`) the difference cancels: in
    float32, at `log_scale = -10`, 1000x the error per pixel of subtracting
    first (2.5e-4 against 2.5e-7 nats). It also takes `log(exp(log_scale))`,
    which under- or overflows beyond `|log_scale| ~ 88`.
    """
    log_scale = tf.broadcast_to(tf.cast(log_scale, x.dtype), tf.shape(x))
    z = (x - mean) * tf.exp(-log_scale)
    per_dim = -0.5 * tf.square(z) - log_scale - 0.5 * math.log(2.0 * math.pi)
    return _sum_event(per_dim, event_ndims)


def standard_normal_log_prob(x, event_ndims):
    """`log N(x; 0, I)` summed over the last `event_ndims` axes (`tfd.Normal(0, 1)`)."""
    return _sum_event(_standard_normal(x.dtype).log_prob(x), event_ndims)


def kl_to_standard_normal(mean, log_scale):
    """`KL(N(mean, exp(log_scale)^2) || N(0, I))` over the last axis (Kingma & Welling, app. B).

    `= 0.5 * sum(mean^2 + sigma^2 - 1 - 2 log sigma)`, as `tfd.kl_divergence`
    computes it: with `expm1`, accurate near the prior (`log sigma ~ 0`) where
    `sigma^2 - 1 - 2 log sigma` cancels.
    """
    posterior = tfd.Normal(mean, tf.exp(tf.cast(log_scale, mean.dtype)))
    return tf.reduce_sum(tfd.kl_divergence(posterior, _standard_normal(mean.dtype)), axis=-1)


def reparameterized_sample(mean, log_scale, seed=None, sample_shape=()):
    """`z = mean + exp(log_scale) * eps`, `eps ~ N(0, I)` of shape `sample_shape + mean.shape`.

    `seed`: None (fresh), per-row seeds `[N, 2]` (`GenerativeModel.noise_seeds`;
    row n's noise from `seed[n]` alone, no `sample_shape`), or one seed for the
    whole tensor, offset by one so the latent noise differs from the
    dequantization noise drawn with the same seed. (Not `tfd.Normal.sample`,
    whose seeds give one stream for the whole tensor, not one per example.)
    """
    if seed is not None and tf.convert_to_tensor(seed).shape.rank == 2:
        eps = per_example_noise(seed, tf.shape(mean)[1:], "normal", mean.dtype)
        return mean + tf.exp(log_scale) * eps
    shape = tf.concat([sample_shape, tf.shape(mean)], axis=0)
    seed = None if seed is None else tf.cast(seed, tf.int64) + 1
    return mean + tf.exp(log_scale) * standard_normal(shape, seed, mean.dtype)
