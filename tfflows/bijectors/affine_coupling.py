"""Affine coupling (RealNVP, Dinh et al. 2017, eq. 6; Glow, Table 1)."""

import tensorflow as tf

from tfflows.bijectors.coupling import Coupling

__all__ = ["AffineCoupling", "SCALE_ACTIVATIONS"]


def _log_scale_exp(h):
    return h


def _log_scale_tanh(h):
    return tf.tanh(h)


def _log_scale_sigmoid(h):
    # Glow scales by sigmoid(h + 2) in the data-to-latent direction, so the
    # latent-to-data (forward) scale is its reciprocal.
    return tf.nn.softplus(-(h + 2.0))


SCALE_ACTIVATIONS = {
    "exp": _log_scale_exp,
    "tanh": _log_scale_tanh,
    "sigmoid": _log_scale_sigmoid,
}


class AffineCoupling(Coupling):
    """Affine coupling: `y_a = x_a`, `y_b = x_b * exp(s) + t`.

    With `(t, h) = fn(x_a)` (or `fn(x_a, conditional_input=c)`) and the log
    scale `s = act(h)`:

    Forward (latent to data):  y_b = x_b * exp(s) + t
    Inverse (data to latent):  x_b = (y_b - t) * exp(-s)
    Forward log-det:           sum of s over the event

    `scale_activation` chooses `act`, i.e. how the scale is kept stable:
      - "tanh" (default): `s = tanh(h)`, a tanh-bounded exp (RealNVP):
        `exp(-1) <= scale <= e` per coupling, and the identity when `h = 0`, so a
        zero-initialised last layer starts the flow as the identity.
      - "sigmoid": Glow's `sigmoid(h + 2)` applied in the data-to-latent
        direction (`x_b = (y_b - t) * sigmoid(h + 2)`); not the identity at `h = 0`.
      - "exp": `s = h`, unbounded (Glow's learned prior at a split).

    Args:
      shift_and_log_scale_fn: callable `x_a -> (t, h)`, both shaped like `x_b`.
      num_masked: see `Coupling`.
      event_ndims: 1 for vector events `[D]`, 3 for image events `[H, W, C]`.
      scale_activation: "tanh", "sigmoid" or "exp".
    """

    def __init__(
        self,
        shift_and_log_scale_fn,
        num_masked=None,
        event_ndims=1,
        scale_activation="tanh",
        validate_args=False,
        name="affine_coupling",
    ):
        parameters = dict(locals())
        if scale_activation not in SCALE_ACTIVATIONS:
            raise ValueError(
                f"scale_activation must be one of {sorted(SCALE_ACTIVATIONS)}, "
                f"got {scale_activation!r}."
            )
        self._scale_activation = scale_activation
        with tf.name_scope(name) as name:
            super().__init__(
                shift_and_log_scale_fn,
                num_masked,
                event_ndims,
                is_constant_jacobian=False,
                validate_args=validate_args,
                name=name,
                parameters=parameters,
            )

    @property
    def shift_and_log_scale_fn(self):
        return self._fn

    @property
    def scale_activation(self):
        return self._scale_activation

    def _shift_and_log_scale(self, x_a, conditional_input):
        shift, h = self._call_fn(x_a, conditional_input)
        return shift, SCALE_ACTIVATIONS[self._scale_activation](h)

    def _forward_and_log_det(self, x, conditional_input=None):
        x_a, x_b = self._split(x)
        shift, log_scale = self._shift_and_log_scale(x_a, conditional_input)
        y_b = x_b * tf.exp(log_scale) + shift
        return self._merge(x_a, y_b), self._sum_event(log_scale)

    def _inverse_and_log_det(self, y, conditional_input=None):
        y_a, y_b = self._split(y)
        shift, log_scale = self._shift_and_log_scale(y_a, conditional_input)
        x_b = (y_b - shift) * tf.exp(-log_scale)
        return self._merge(y_a, x_b), -self._sum_event(log_scale)
