"""Additive (volume-preserving) coupling (NICE, Dinh et al. 2015, eq. 7; Glow)."""

import tensorflow as tf

from tfflows.bijectors.coupling import Coupling

__all__ = ["AdditiveCoupling"]


class AdditiveCoupling(Coupling):
    """Additive coupling: `y_a = x_a`, `y_b = x_b + t(x_a)`.

    Forward (latent to data):  y_b = x_b + t
    Inverse (data to latent):  x_b = y_b - t
    Log-det: 0 (volume-preserving, `is_constant_jacobian`).

    Used by Glow's additive variant, by the flow-decoder VAE's pixel-space Glow
    layer and by the f-VAE reference flow.

    Args:
      shift_fn: callable `x_a -> t` (or `(x_a, conditional_input=c) -> t`),
        `t` shaped like `x_b`.
      num_masked: see `Coupling`.
      event_ndims: 1 for vector events `[D]`, 3 for image events `[H, W, C]`.
      validate_args: check that `shift_fn` returns one tensor shaped exactly like
        `x_b` (see `Coupling`).
    """

    def __init__(
        self,
        shift_fn,
        num_masked=None,
        event_ndims=1,
        validate_args=False,
        name="additive_coupling",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            super().__init__(
                shift_fn,
                num_masked,
                event_ndims,
                is_constant_jacobian=True,
                validate_args=validate_args,
                name=name,
                parameters=parameters,
            )

    @property
    def shift_fn(self):
        return self._fn

    def _shift(self, x_a, x_b, conditional_input):
        outputs = self._call_fn(x_a, conditional_input)
        return self._conditioner_outputs(outputs, x_b, "shift_fn", 1)

    def _forward_and_log_det(self, x, conditional_input=None):
        x_a, x_b = self._split(x)
        y = self._merge(x_a, x_b + self._shift(x_a, x_b, conditional_input))
        return y, tf.zeros([], dtype=x.dtype)

    def _inverse_and_log_det(self, y, conditional_input=None):
        y_a, y_b = self._split(y)
        x = self._merge(y_a, y_b - self._shift(y_a, y_b, conditional_input))
        return x, tf.zeros([], dtype=y.dtype)
