"""Affine coupling (RealNVP, Dinh et al. 2017, eq. 6; Glow, Table 1; GLF, section 3.1)."""

import tensorflow as tf

from tfflows.bijectors.coupling import Coupling

__all__ = ["AffineCoupling", "AFFINE_DIRECTIONS", "SCALE_ACTIVATIONS"]

# FrEIA 0.2's soft clamp "ATAN" with its default clamp 2, as GLF's reference code
# trains (`RNVPCouplingBlock(clamp=2.0)`): `s = 2 * 0.636 * atan(h)`, 0.636 ~ 2 / pi.
ATAN_CLAMP = 2.0
ATAN_FACTOR = 0.636
# The floor of the "contracting" scale's log: factors in (e^-1, 1]. The density
# direction's gain is at most e per coupling: with e^3 (20x) per coupling, 16
# couplings once took a training digit's latent from 13 to 4,600 (53,000 bits/dim)
# and Glow diverged on MNIST at Adam 1e-3; with e^1 it trained faster too.
CONTRACTING_FLOOR = 1.0
# The cap of the "capped_exp" scale's log: factors in (0, e^5).
EXP_CAP = 5.0


def _log_scale_exp(h):
    return h


def _log_scale_tanh(h):
    return tf.tanh(h)


def _log_scale_sigmoid(h):
    # Glow scales by sigmoid(h + 2) in the data-to-latent direction, so the
    # latent-to-data (forward) scale is its reciprocal.
    return tf.nn.softplus(-(h + 2.0))


def _log_scale_atan(h):
    return ATAN_CLAMP * ATAN_FACTOR * tf.atan(h)


def _log_scale_capped_exp(h):
    # h soft-capped at c: c - softplus(c - h) ~ h below c - 2, never above c.
    return EXP_CAP - tf.nn.softplus(EXP_CAP - h)


def _log_scale_contracting(h):
    # log sigmoid(h + 2) = -softplus(-(h + 2)), soft-floored at -c by c * tanh(. / c):
    # ~Glow's sigmoid where it is above e^-1, and never below e^-c.
    c = CONTRACTING_FLOOR
    return -c * tf.tanh(tf.nn.softplus(-(h + 2.0)) / c)


SCALE_ACTIVATIONS = {
    "exp": _log_scale_exp,
    "tanh": _log_scale_tanh,
    "sigmoid": _log_scale_sigmoid,
    "atan": _log_scale_atan,
    "contracting": _log_scale_contracting,
    "capped_exp": _log_scale_capped_exp,
}

# The direction in which the coupling computes `x_b * exp(s) + t`.
AFFINE_DIRECTIONS = ("forward", "inverse")


class AffineCoupling(Coupling):
    """Affine coupling: `y_a = x_a`, `y_b = x_b * exp(s) + t` in one of the two directions.

    With `(t, h) = fn(x_a)` (or `fn(x_a, conditional_input=c)`) and the log
    scale `s = act(h)`, by default (`affine_direction="forward"`, RealNVP's
    eq. 6 read latent to data, as TFP's `RealNVP`):

    Forward (latent to data):  y_b = x_b * exp(s) + t
    Inverse (data to latent):  x_b = (y_b - t) * exp(-s)
    Forward log-det:           sum of s over the event

    With `affine_direction="inverse"` the same map runs data to latent, as
    GLF's section 3.1 writes its flow `f` ("y_2 = z_2 * exp(s(z_1)) + t(z_1)",
    z the data, y the noise) and FrEIA's `RNVPCouplingBlock` computes it:

    Inverse (data to latent):  x_b = y_b * exp(s) + t
    Forward (latent to data):  y_b = (x_b - t) * exp(-s)
    Forward log-det:           minus the sum of s over the event

    Both give the same family of maps for unconstrained networks (swap the
    sign of `s` and rescale `t`); they differ in where the shift sits, so in
    how a bounded `s` and a trained network reach a given map.

    `scale_activation` chooses `act`, i.e. how the scale is kept stable:
      - "tanh" (default): `s = tanh(h)`, a tanh-bounded exp (RealNVP):
        `exp(-1) <= scale <= e` per coupling, and the identity when `h = 0`, so a
        zero-initialised last layer starts the flow as the identity.
      - "sigmoid": Glow's `sigmoid(h + 2)` applied in the data-to-latent
        direction (`x_b = (y_b - t) * sigmoid(h + 2)`); not the identity at `h = 0`.
      - "exp": `s = h`, unbounded (Glow's learned prior at a split; "capped_exp"
        is the bounded form `MultiScaleFlow` uses).
      - "atan": `s = 2 * 0.636 * atan(h)`, FrEIA 0.2's soft clamp at 2
        (`clamp * 0.636 * atan(h)`, 0.636 ~ 2/pi), which GLF's reference code
        trains: `exp(-2) < scale < exp(2)`, the identity when `h = 0`.
      - "contracting": Glow's `sigmoid(h + 2)` as the latent-to-data factor,
        its log soft-floored at -1: `s = -tanh(softplus(-(h + 2)))`, so
        `exp(-1) < scale <= 1`. With the default direction the sampling
        direction never enlarges `x_b` (`|y_b| <= |x_b| + |t|` whatever the
        network outputs), and the density direction enlarges it by at most
        `e`, which keeps training from running away as an unbounded
        `1 / sigmoid` does (and as a floor of `e^-3` did: 16 couplings of
        gain 20 sent a training digit to 53,000 bits/dim). Near Glow's
        sigmoid for `h >= 0` (0.881 against sigmoid(2) = 0.881 at `h = 0`).
      - "capped_exp": `s = 5 - softplus(5 - h)`, "exp" soft-capped at
        `exp(5)`: within 0.007 of `h` below `h = 0`, unbounded below (a prior
        may be as sharp as the data allow, e.g. on padding), never above
        `e^5` (a multi-scale flow's learned priors).

    Args:
      shift_and_log_scale_fn: callable `x_a -> (t, h)`, both shaped like `x_b`.
      num_masked: see `Coupling`.
      event_ndims: 1 for vector events `[D]`, 3 for image events `[H, W, C]`.
      scale_activation: "tanh", "sigmoid", "exp", "atan", "contracting" or
        "capped_exp".
      affine_direction: "forward" or "inverse", the direction that computes
        `x_b * exp(s) + t` (see above).
      validate_args: check that the callable returns two tensors shaped exactly
        like `x_b` (see `Coupling`).
    """

    def __init__(
        self,
        shift_and_log_scale_fn,
        num_masked=None,
        event_ndims=1,
        scale_activation="tanh",
        affine_direction="forward",
        validate_args=False,
        name="affine_coupling",
    ):
        parameters = dict(locals())
        if scale_activation not in SCALE_ACTIVATIONS:
            raise ValueError(
                f"scale_activation must be one of {sorted(SCALE_ACTIVATIONS)}, "
                f"got {scale_activation!r}."
            )
        if affine_direction not in AFFINE_DIRECTIONS:
            raise ValueError(
                f"affine_direction must be one of {AFFINE_DIRECTIONS}, got {affine_direction!r}."
            )
        self._scale_activation = scale_activation
        self._affine_direction = affine_direction
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

    @property
    def affine_direction(self):
        return self._affine_direction

    def _shift_and_log_scale(self, x_a, x_b, conditional_input):
        outputs = self._call_fn(x_a, conditional_input)
        shift, h = self._conditioner_outputs(outputs, x_b, "shift_and_log_scale_fn", 2)
        return shift, SCALE_ACTIVATIONS[self._scale_activation](h)

    def _transform(self, x, conditional_input, scale_and_shift):
        """`(x_a, x_b * exp(s) + t)` if `scale_and_shift`, else `(x_a, (x_b - t) * exp(-s))`."""
        x_a, x_b = self._split(x)
        shift, log_scale = self._shift_and_log_scale(x_a, x_b, conditional_input)
        if scale_and_shift:
            y_b, log_det = x_b * tf.exp(log_scale) + shift, self._sum_event(log_scale)
        else:
            y_b, log_det = (x_b - shift) * tf.exp(-log_scale), -self._sum_event(log_scale)
        return self._merge(x_a, y_b), log_det

    def _forward_and_log_det(self, x, conditional_input=None):
        return self._transform(x, conditional_input, self._affine_direction == "forward")

    def _inverse_and_log_det(self, y, conditional_input=None):
        return self._transform(y, conditional_input, self._affine_direction == "inverse")
