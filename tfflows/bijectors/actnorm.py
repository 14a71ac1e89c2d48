"""Activation normalisation (Glow, Kingma & Dhariwal 2018, section 3.1)."""

import tensorflow as tf

from tfflows._internals import common_dtype
from tfflows.bijectors import _checks
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
      validate_args: check that `loc` and `log_scale` have one shape, that `loc`
        is finite and the scale `exp(log_scale)` positive and finite in the
        dtype (a scale that under- or overflows is not invertible), and that
        inputs have `C` channels.
    """

    def __init__(self, loc, log_scale, validate_args=False, name="act_norm"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = common_dtype([loc, log_scale], dtype_hint=tf.float32)
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

    def _parameter_control_dependencies(self, is_init):
        # The parameters are tensors read at construction: checked once, then.
        if not self.validate_args or not is_init:
            return []
        loc, log_scale = self._loc, self._log_scale
        message = f"{self.name}: the shape of loc, against log_scale"
        assertions = _checks.check_shape(loc, log_scale.shape, lambda: tf.shape(log_scale), message)
        scale = tf.exp(log_scale)
        return assertions + [
            _checks.assert_all(tf.math.is_finite(loc), f"{self.name}: loc must be finite"),
            _checks.assert_all(
                (scale > 0) & tf.math.is_finite(scale),
                f"{self.name}: the scale exp(log_scale) must be positive and finite",
                log_scale,
            ),
        ]

    def _checked(self, x):
        if not self.validate_args:
            return x
        channels = self._log_scale.shape[-1:]
        expected = x.shape[:-1].concatenate(channels)
        message = f"{self.name}: the input channels (last axis) must match log_scale {channels}"
        assertions = _checks.check_shape(
            x,
            expected,
            lambda: tf.concat([tf.shape(x)[:-1], tf.shape(self._log_scale)[-1:]], 0),
            message,
        )
        return _checks.with_dependencies(x, assertions)

    def _forward(self, x):
        return self._checked(x) * tf.exp(self._log_scale) + self._loc

    def _inverse(self, y):
        return (self._checked(y) - self._loc) * tf.exp(-self._log_scale)

    def _forward_log_det_jacobian(self, x):
        return tf.reduce_sum(self._log_scale, axis=-1)
