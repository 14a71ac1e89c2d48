"""Affine map whose shift and scale depend on a conditional input (f-VAE, eq. 7)."""

import tensorflow as tf

from tfflows.bijectors import _checks
from tfflows.bijectors.base import OnePassBijector, sum_event_dims

__all__ = ["ConditionalAffine"]


class ConditionalAffine(OnePassBijector):
    """`y = exp(s(c)) * x + mu(c)` with `c` passed as `conditional_input=c`.

    With `(mu, s) = fn(c)`, shaped like the event (or broadcastable to it):

    Forward (noise to latent):  y = x * exp(s) + mu
    Inverse:                    x = (y - mu) * exp(-s)
    Forward log-det:            sum of s over the event

    This is case 1 of the f-VAE paper (Su & Wu 2018, eq. 7): with `x = u`,
    `c` the image and `sigma = exp(s)`, `F_x(u) = sigma(x) * u + mu(x)` is the
    reparameterised Gaussian posterior of a VAE, and the general loss (6)
    reduces to the standard VAE loss (eq. 9).

    Args:
      shift_and_log_scale_fn: callable `c -> (mu, s)`.
      event_ndims: rank of the event, e.g. 1 for `[D]`, 3 for `[H, W, C]`.
      validate_args: check that the callable returns two tensors, each
        broadcasting to `x`'s shape without changing it (statically when the
        shapes are known, by an assertion otherwise).
    """

    def __init__(
        self,
        shift_and_log_scale_fn,
        event_ndims=1,
        validate_args=False,
        name="conditional_affine",
    ):
        parameters = dict(locals())
        self._fn = shift_and_log_scale_fn
        self._event_ndims = int(event_ndims)
        with tf.name_scope(name) as name:
            super().__init__(
                forward_min_event_ndims=self._event_ndims,
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @property
    def shift_and_log_scale_fn(self):
        return self._fn

    @property
    def event_ndims(self):
        return self._event_ndims

    def _params(self, x, conditional_input):
        if conditional_input is None:
            raise ValueError(f"{self.name} needs `conditional_input=`.")
        outputs = self._fn(conditional_input)
        if self.validate_args:
            outputs = self._checked(outputs, x)
        shift, log_scale = outputs
        # The log-det is a sum over the full event even when s broadcasts.
        log_scale = tf.broadcast_to(log_scale, tf.shape(x))
        return shift, log_scale

    def _checked(self, outputs, x):
        culprit = f"{self.name}: the conditioner (shift_and_log_scale_fn)"
        if not isinstance(outputs, (tuple, list)) or len(outputs) != 2:
            got = f"{len(outputs)} tensors" if isinstance(outputs, (tuple, list)) else "one"
            raise TypeError(f"{culprit} returned {got}; it must return (shift, log_scale).")
        checked = []
        for what, tensor in zip(("shift", "log_scale"), outputs):
            message = f"{culprit}: {what} must broadcast to the shape of x, {x.shape}"
            assertions = _checks.check_broadcasts_to(tensor, x, message)
            checked.append(_checks.with_dependencies(tensor, assertions))
        return checked

    def _forward_and_log_det(self, x, conditional_input=None):
        shift, log_scale = self._params(x, conditional_input)
        return x * tf.exp(log_scale) + shift, sum_event_dims(log_scale, self._event_ndims)

    def _inverse_and_log_det(self, y, conditional_input=None):
        shift, log_scale = self._params(y, conditional_input)
        return (y - shift) * tf.exp(-log_scale), -sum_event_dims(log_scale, self._event_ndims)
