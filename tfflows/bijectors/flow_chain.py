"""A chain of bijectors on events of one rank, transformed and log-det'ed in one walk."""

import tensorflow as tf

from tfflows.bijectors.base import OnePassBijector

__all__ = ["FlowChain"]


class FlowChain(OnePassBijector):
    """Composes `bijectors` like `tfp.bijectors.Chain`: forward applies them right to left.

    Forward:  y = b_1(b_2(... b_n(x)))
    Log-det:  sum_i log|det J_{b_i}| at each bijector's own input.

    Every bijector gets the chain's event rank (`event_ndims`); shape changes
    that keep the rank (squeezes) are allowed. The difference from `tfb.Chain`
    is the walk: the transform and the log-det of each bijector are taken at
    once while its input is alive. `tfb.Chain` walks the bijectors again for
    the log-det and relies on TFP's cache, whose entries die with the
    intermediate tensors: in eager mode every coupling network then ran again
    for the log-det, and once more per level of a multi-scale flow.

    Args:
      bijectors: the bijectors, in `tfb.Chain` order.
      event_ndims: the event rank of every bijector's input and output.
      validate_args: check that no bijector needs events of a higher rank than
        `event_ndims` (each bijector checks its own arguments).
    """

    def __init__(self, bijectors, event_ndims, validate_args=False, name="flow_chain"):
        parameters = dict(locals())
        self._bijectors = list(bijectors)
        self._event_ndims = int(event_ndims)
        if validate_args:
            for bijector in self._bijectors:
                ndims = max(
                    tf.nest.flatten(bijector.forward_min_event_ndims)
                    + tf.nest.flatten(bijector.inverse_min_event_ndims)
                )
                if ndims > self._event_ndims:
                    raise ValueError(
                        f"{name}: {bijector.name} needs events of rank >= {ndims}, more than "
                        f"the chain's event_ndims={self._event_ndims}."
                    )
        with tf.name_scope(name) as name:
            super().__init__(
                forward_min_event_ndims=self._event_ndims,
                is_constant_jacobian=all(b.is_constant_jacobian for b in self._bijectors),
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @property
    def bijectors(self):
        return self._bijectors

    def _forward_and_log_det(self, x, **kwargs):
        log_det = tf.zeros([], dtype=x.dtype)
        for bijector in reversed(self._bijectors):
            y = bijector.forward(x, **kwargs)
            log_det = log_det + bijector.forward_log_det_jacobian(x, self._event_ndims, **kwargs)
            x = y
        return x, log_det

    def _inverse_and_log_det(self, y, **kwargs):
        log_det = tf.zeros([], dtype=y.dtype)
        for bijector in self._bijectors:
            x = bijector.inverse(y, **kwargs)
            log_det = log_det + bijector.inverse_log_det_jacobian(y, self._event_ndims, **kwargs)
            y = x
        return y, log_det

    def _forward_event_shape(self, shape):
        for bijector in reversed(self._bijectors):
            shape = bijector.forward_event_shape(shape)
        return shape

    def _inverse_event_shape(self, shape):
        for bijector in self._bijectors:
            shape = bijector.inverse_event_shape(shape)
        return shape

    def _forward_event_shape_tensor(self, shape):
        for bijector in reversed(self._bijectors):
            shape = bijector.forward_event_shape_tensor(shape)
        return shape

    def _inverse_event_shape_tensor(self, shape):
        for bijector in self._bijectors:
            shape = bijector.inverse_event_shape_tensor(shape)
        return shape
