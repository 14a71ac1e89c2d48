"""Space-to-depth squeeze (RealNVP, Dinh et al. 2017, section 3.6; Glow)."""

import tensorflow as tf

from tfflows._internals import prefer_static as ps
from tfflows.bijectors import _checks
from tfflows.bijectors.base import FlowBijector

__all__ = ["Squeeze"]


class Squeeze(FlowBijector):
    """Trades spatial resolution for channels: `[H, W, C] -> [H/f, W/f, C*f*f]`.

    Forward: each `f x f` spatial block becomes one position with `f*f*C`
    channels, ordered (row in block, column in block, channel), the layout of
    `tf.nn.space_to_depth`. Inverse: the reverse rearrangement. A permutation,
    so the log-det is 0.

    Works with any number of batch dimensions, including an unknown batch
    size, and is built from reshape/transpose so it compiles under XLA.

    Args:
      factor: Python int, the block size `f`; `H` and `W` must divide by it.
      validate_args: check that they do (and, inverting, that `C` divides by
        `f * f`): statically when the sides are known, by an assertion otherwise.
        Without it a side that does not divide fails in a reshape, with TF's
        message about element counts.
    """

    def __init__(self, factor=2, validate_args=False, name="squeeze"):
        parameters = dict(locals())
        if int(factor) < 1:
            raise ValueError(f"factor must be a positive integer, got {factor}.")
        self._factor = int(factor)
        with tf.name_scope(name) as name:
            super().__init__(
                forward_min_event_ndims=3,
                is_constant_jacobian=True,
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @property
    def factor(self):
        return self._factor

    def _divisible(self, x, axes, divisor, what):
        """`x`, checked (if `validate_args`) to have `axes` divisible by `divisor`."""
        if not self.validate_args:
            return x
        message = f"{self.name}: {what} must be divisible by {divisor} (factor={self._factor})"
        static = [x.shape[a] if x.shape.rank is not None else None for a in axes]
        if any(d is not None and d % divisor for d in static):
            raise ValueError(f"{message}, got {static}.")
        if all(d is not None for d in static):
            return x
        sizes = tf.stack([tf.shape(x)[a] for a in axes])
        return _checks.with_dependencies(
            x, [_checks.assert_all(sizes % divisor == 0, message, sizes)]
        )

    def _forward(self, x):
        f = self._factor
        x = self._divisible(x, [-3, -2], f, "the height and width (H, W)")
        shape = ps.shape(x)
        batch, (h, w, c) = shape[:-3], [shape[-3], shape[-2], shape[-1]]
        x = tf.reshape(x, [-1, h // f, f, w // f, f, c])
        x = tf.transpose(x, [0, 1, 3, 2, 4, 5])
        return tf.reshape(x, ps.concat([batch, [h // f, w // f, c * f * f]], axis=0))

    def _inverse(self, y):
        f = self._factor
        y = self._divisible(y, [-1], f * f, "the channels (C)")
        shape = ps.shape(y)
        batch, (h, w, c) = shape[:-3], [shape[-3], shape[-2], shape[-1]]
        y = tf.reshape(y, [-1, h, w, f, f, c // (f * f)])
        y = tf.transpose(y, [0, 1, 3, 2, 4, 5])
        return tf.reshape(y, ps.concat([batch, [h * f, w * f, c // (f * f)]], axis=0))

    def _forward_log_det_jacobian(self, x):
        return tf.zeros([], dtype=x.dtype)

    def _forward_event_shape(self, input_shape):
        h, w, c = input_shape[-3:]
        f = self._factor
        return input_shape[:-3].concatenate(
            [
                None if h is None else h // f,
                None if w is None else w // f,
                None if c is None else c * f * f,
            ]
        )

    def _inverse_event_shape(self, output_shape):
        h, w, c = output_shape[-3:]
        f = self._factor
        return output_shape[:-3].concatenate(
            [
                None if h is None else h * f,
                None if w is None else w * f,
                None if c is None else c // (f * f),
            ]
        )

    def _forward_event_shape_tensor(self, input_shape):
        f = self._factor
        return ps.concat(
            [
                input_shape[:-3],
                [input_shape[-3] // f, input_shape[-2] // f, input_shape[-1] * f * f],
            ],
            axis=0,
        )

    def _inverse_event_shape_tensor(self, output_shape):
        f = self._factor
        return ps.concat(
            [
                output_shape[:-3],
                [output_shape[-3] * f, output_shape[-2] * f, output_shape[-1] // (f * f)],
            ],
            axis=0,
        )
