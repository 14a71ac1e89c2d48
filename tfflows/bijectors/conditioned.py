"""A conditional bijector with its keyword arguments fixed: `F_c` as a map of its input alone.

Conditioning in tfflows follows TFP: a conditional bijector takes its
conditioning as keyword arguments of `forward`/`inverse` and their log-dets
(`conditional_input=c`). Inside a `tfb.Chain` TFP would route such arguments
by bijector name (`bijector_kwargs={"name": {...}}`), which breaks as soon as a
flow nests chains or repeats names. `Conditioned` is the one way tfflows fixes
them instead: the Keras layers' `bijector(conditional_input=c)` returns
`Conditioned(unconditional_form, conditional_input=c)` whenever `c` is given,
and models wrap their own conditional bijectors the same way (f-VAE's
posterior `F_x`).
"""

from tfflows.bijectors.base import OnePassBijector

__all__ = ["Conditioned"]


class Conditioned(OnePassBijector):
    """`bijector` with keyword arguments fixed, so it composes like any other bijector.

    Forward `y = f(x; **kwargs)`, inverse `x = f^-1(y; **kwargs)`, and the
    log-dets of `bijector` with the same keyword arguments. Only for bijectors
    that keep the event shape (couplings, conditional affine maps).

    Args:
      bijector: a `tfp.bijectors.Bijector` whose `forward`/`inverse` accept `kwargs`.
      event_ndims: rank of one event (the bijector's `forward_min_event_ndims`
        by default).
      validate_args: with True, `event_ndims` must be at least the bijector's
        `forward_min_event_ndims` and no keyword argument may be None.
      name: name scope.
      **kwargs: the conditioning, e.g. `conditional_input=c`.
    """

    def __init__(self, bijector, event_ndims=None, validate_args=False, name=None, **kwargs):
        min_ndims = bijector.forward_min_event_ndims
        event_ndims = min_ndims if event_ndims is None else int(event_ndims)
        if not isinstance(min_ndims, int) or event_ndims < min_ndims:
            raise ValueError(
                f"Conditioned({bijector.name}): event_ndims={event_ndims} is below the "
                f"bijector's forward_min_event_ndims {min_ndims}."
            )
        if validate_args:
            missing = sorted(key for key, value in kwargs.items() if value is None)
            if missing:
                raise ValueError(f"Conditioned({bijector.name}): {missing} are None.")
        self._bijector, self._kwargs, self._ndims = bijector, kwargs, event_ndims
        super().__init__(
            forward_min_event_ndims=event_ndims,
            is_constant_jacobian=bijector.is_constant_jacobian,
            validate_args=validate_args,
            parameters={},
            name=name or f"conditioned_{bijector.name}",
        )

    @property
    def bijector(self):
        return self._bijector

    @property
    def conditioning(self):
        """The fixed keyword arguments."""
        return dict(self._kwargs)

    def _forward_and_log_det(self, x):
        y = self._bijector.forward(x, **self._kwargs)
        return y, self._bijector.forward_log_det_jacobian(x, self._ndims, **self._kwargs)

    def _inverse_and_log_det(self, y):
        x = self._bijector.inverse(y, **self._kwargs)
        return x, self._bijector.inverse_log_det_jacobian(y, self._ndims, **self._kwargs)
