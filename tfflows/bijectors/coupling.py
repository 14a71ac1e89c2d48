"""The split/merge and conditioner plumbing shared by the coupling bijectors."""

import tensorflow as tf

from tfflows.bijectors.base import OnePassBijector, sum_event_dims

__all__ = ["Coupling"]


class Coupling(OnePassBijector):
    """Base of the coupling bijectors (RealNVP, Dinh et al. 2017, eq. 4-9).

    The last axis (channels of an image, features of a vector) is split into a
    conditioning part `x_a`, passed through unchanged, and a transformed part
    `x_b`, whose transform depends on `x_a` (and on a conditional input) only
    through the callable. `num_masked` follows `tfp.bijectors.RealNVP`: a
    positive value conditions on the first `num_masked` units, a negative value
    on the last `|num_masked|` units (the alternating pattern), and `None`
    conditions on the first `C // 2`. The size of the last axis must be static.

    The callable is called as `fn(x_a)`, or `fn(x_a, conditional_input=c)` when a
    conditional input is passed to `forward`/`inverse` as a keyword argument.
    """

    def __init__(
        self, fn, num_masked, event_ndims, is_constant_jacobian, validate_args, name, parameters
    ):
        if event_ndims not in (1, 3):
            raise ValueError(f"event_ndims must be 1 (vectors) or 3 (images), got {event_ndims}.")
        self._fn = fn
        self._num_masked = num_masked
        self._event_ndims = event_ndims
        super().__init__(
            forward_min_event_ndims=event_ndims,
            is_constant_jacobian=is_constant_jacobian,
            validate_args=validate_args,
            parameters=parameters,
            name=name,
        )

    @property
    def num_masked(self):
        return self._num_masked

    @property
    def event_ndims(self):
        return self._event_ndims

    def _sizes(self, x):
        channels = x.shape[-1]
        if channels is None:
            raise ValueError("Coupling layers need a static size for the last axis.")
        k = channels // 2 if self._num_masked is None else self._num_masked
        if not -channels < k < channels or k == 0:
            raise ValueError(f"num_masked={self._num_masked} invalid for {channels} channels.")
        return (k, channels - k) if k > 0 else (channels + k, -k)

    def _split(self, x):
        """Returns (conditioning part, transformed part)."""
        first, second = tf.split(x, self._sizes(x), axis=-1)
        return (
            (first, second) if self._num_masked is None or self._num_masked > 0 else (second, first)
        )

    def _merge(self, conditioning, transformed):
        if self._num_masked is None or self._num_masked > 0:
            return tf.concat([conditioning, transformed], axis=-1)
        return tf.concat([transformed, conditioning], axis=-1)

    def _call_fn(self, x_a, conditional_input):
        if conditional_input is None:
            return self._fn(x_a)
        return self._fn(x_a, conditional_input=conditional_input)

    def _sum_event(self, values):
        return sum_event_dims(values, self._event_ndims)
