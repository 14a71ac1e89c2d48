"""Base classes shared by the tfflows bijectors.

tfflows bijectors are rebuilt from Keras-owned weights on every call, so two
instances with equal-looking parameters may read different variable values.
TFP's bijector cache compares instances by their `parameters`; `FlowBijector`
makes every instance unique so that a cached result can never outlive the
weights it was computed from.

`OnePassBijector` is for bijectors whose log-det comes out of the same
computation as the transform (couplings, conditional affine maps): the
conditioner network is evaluated once per direction and the log-det is stored
in TFP's cache next to the output, as `tfp.bijectors.FFJORD` does.
"""

import tensorflow as tf
import tensorflow_probability as tfp

from tfflows._internals import BijectorCacheWithGreedyAttrs

__all__ = ["FlowBijector", "OnePassBijector", "sum_event_dims"]


def sum_event_dims(values, event_ndims):
    """Sums `values` over its rightmost `event_ndims` axes."""
    return tf.reduce_sum(values, axis=list(range(-event_ndims, 0)))


class FlowBijector(tfp.bijectors.Bijector):
    """A `tfp.bijectors.Bijector` whose instances never share cache entries."""

    def _get_parameterization(self):
        # Parameters are tensors read from variables that change between calls:
        # equality by value would let a new instance return an old result.
        return id(self)


class OnePassBijector(FlowBijector):
    """Computes transform and log-det together, caching the log-det.

    Subclasses implement `_forward_and_log_det(x, **kwargs) -> (y, fldj)` and
    `_inverse_and_log_det(y, **kwargs) -> (x, ildj)`; TFP's `forward`,
    `inverse` and both log-det methods then share one evaluation.
    """

    _cache = BijectorCacheWithGreedyAttrs(
        forward_name="_augmented_forward", inverse_name="_augmented_inverse"
    )

    def _augmented_forward(self, x, **kwargs):
        y, fldj = self._forward_and_log_det(x, **kwargs)
        return y, {"ildj": -fldj}

    def _augmented_inverse(self, y, **kwargs):
        x, ildj = self._inverse_and_log_det(y, **kwargs)
        return x, {"ildj": ildj}

    def _forward(self, x, **kwargs):
        return self._forward_and_log_det(x, **kwargs)[0]

    def _inverse(self, y, **kwargs):
        return self._inverse_and_log_det(y, **kwargs)[0]

    # TFP reads the cached "ildj" attribute before calling these, so they only
    # run when the transform itself has not been computed for this input.
    def _forward_log_det_jacobian(self, x, **kwargs):
        return self._forward_and_log_det(x, **kwargs)[1]

    def _inverse_log_det_jacobian(self, y, **kwargs):
        return self._inverse_and_log_det(y, **kwargs)[1]

    def _forward_and_log_det(self, x, **kwargs):
        raise NotImplementedError

    def _inverse_and_log_det(self, y, **kwargs):
        raise NotImplementedError
