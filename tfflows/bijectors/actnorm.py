"""Activation normalisation (Glow, Kingma & Dhariwal 2018, section 3.1)."""

import tensorflow as tf
from tensorflow_probability.python.internal import dtype_util

from tfflows.bijectors.base import FlowBijector

__all__ = ["ActNorm"]


class ActNorm(FlowBijector):
    """Per-channel affine map on the last axis.

    Forward (latent to data):  y = x * exp(log_scale) + loc
    Inverse (data to latent):  x = (y - loc) * exp(-log_scale)
    Log-det of the forward map for one channel vector: sum(log_scale).

    The bijector acts on the last axis (`forward_min_event_ndims == 1`); for an
    image event `[H, W, C]` call it with `event_ndims=3` (or put it in a
    `tfb.Chain` with image bijectors) and TFP multiplies the log-det by `H * W`,
    as in Table 1 of the Glow paper: `h * w * sum(log|s|)`.

    Args:
      loc: float tensor `[C]`.
      log_scale: float tensor `[C]`.
    """

    def __init__(self, loc, log_scale, validate_args=False, name="act_norm"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([loc, log_scale], dtype_hint=tf.float32)
            self._loc = tf.convert_to_tensor(loc, dtype=dtype, name="loc")
            self._log_scale = tf.convert_to_tensor(log_scale, dtype=dtype, name="log_scale")
            super().__init__(
                forward_min_event_ndims=1,
                is_constant_jacobian=True,
                validate_args=validate_args,
                dtype=dtype,
                parameters=parameters,
                name=name,
            )

    @property
    def loc(self):
        return self._loc

    @property
    def log_scale(self):
        return self._log_scale

    def _forward(self, x):
        return x * tf.exp(self._log_scale) + self._loc

    def _inverse(self, y):
        return (y - self._loc) * tf.exp(-self._log_scale)

    def _forward_log_det_jacobian(self, x):
        return tf.reduce_sum(self._log_scale, axis=-1)
