"""The split/merge and conditioner plumbing shared by the coupling bijectors."""

import numbers

import tensorflow as tf

from tfflows.bijectors import _checks
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

    The split is always checked (`0 < |num_masked| < C`, once `C` is known). With
    `validate_args=True` `num_masked` must also be an integer, and every tensor
    the callable returns must be shaped exactly like `x_b` (`[..., C_b]`, not
    merely broadcastable to it): statically when the shapes are known, by an
    assertion otherwise (see `_checks`).
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
        if validate_args and num_masked is not None:
            if isinstance(num_masked, bool) or not isinstance(num_masked, numbers.Integral):
                raise TypeError(
                    f"{self.name}: num_masked must be an integer or None, got {num_masked!r}."
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
            raise ValueError(
                f"{self.name}: num_masked={self._num_masked} invalid for {channels} channels "
                "(the split needs 0 < |num_masked| < channels)."
            )
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

    def _conditioner_outputs(self, outputs, x_b, fn_name, count, units=None):
        """The callable's `count` tensors, checked against `x_b` if `validate_args`.

        Each must be `x_b`'s shape with `units` (default `C_b`) on the last axis.
        """
        if not self.validate_args:
            return outputs
        culprit = f"{self.name}: the conditioner ({fn_name})"
        is_sequence = isinstance(outputs, (tuple, list))
        if count == 1 and is_sequence or count > 1 and (not is_sequence or len(outputs) != count):
            got = f"{len(outputs)} tensors" if is_sequence else "one tensor"
            raise TypeError(f"{culprit} returned {got}; it must return {count}.")
        units = x_b.shape[-1] if units is None else units
        expected = x_b.shape[:-1].concatenate([units])

        def expected_tensor():
            return tf.concat([tf.shape(x_b)[:-1], [units]], axis=0)

        checked = []
        for i, output in enumerate(outputs if is_sequence else [outputs]):
            what = f"output {i}" if is_sequence else "output"
            message = f"{culprit}: the shape of its {what} does not match x_b {x_b.shape}"
            assertions = _checks.check_shape(output, expected, expected_tensor, message)
            checked.append(_checks.with_dependencies(output, assertions))
        return tuple(checked) if is_sequence else checked[0]

    def _sum_event(self, values):
        return sum_event_dims(values, self._event_ndims)
