"""The multi-scale split of RealNVP (Dinh et al. 2017, section 3.6) and Glow."""

import tensorflow as tf

from tfflows.bijectors import _checks
from tfflows.bijectors.base import OnePassBijector

__all__ = ["MultiScaleSplit"]


class MultiScaleSplit(OnePassBijector):
    """Applies `bijector` to the first `num_kept` channels, the identity to the rest.

    Forward:  y = concat(bijector.forward(x[..., :k]), x[..., k:])
    Inverse:  x = concat(bijector.inverse(y[..., :k]), y[..., k:])
    Log-det:  the inner bijector's log-det on the kept part.

    This is the recursion of a multi-scale flow: at each level half of the
    channels are factored out and the other half continues through the deeper
    levels (`bijector`). The factored-out half's learned conditional prior
    (Glow, section 3: `z2 ~ N(mu(z1), sigma(z1))`) is an `AffineCoupling` with
    `scale_activation="capped_exp"` placed after this bijector in the latent-to-data
    direction: `z2 = mu(z1) + sigma(z1) * eps2`, `eps2 ~ N(0, I)`. Keeping the
    latent the shape of the event makes the whole multi-scale flow one bijector
    from `N(0, I)` on `[H, W, C]` to images `[H, W, C]`.

    Keyword arguments (e.g. `conditional_input`) are passed on to the inner
    bijector.

    Args:
      bijector: the inner bijector; its event rank must match this one's.
      num_kept: channels passed to `bijector`; default half (rounded down).
      event_ndims: rank of the event (3 for images).
      validate_args: check the split: the inner bijector's event rank is at most
        `event_ndims`, `0 < num_kept < C`, and the inner bijector keeps the kept
        part's shape (statically when known, by an assertion otherwise).
    """

    def __init__(
        self, bijector, num_kept=None, event_ndims=3, validate_args=False, name="multi_scale_split"
    ):
        parameters = dict(locals())
        if validate_args:
            inner_ndims = max(tf.nest.flatten(bijector.forward_min_event_ndims))
            if inner_ndims > int(event_ndims):
                raise ValueError(
                    f"{name}: the inner bijector {bijector.name} needs events of rank "
                    f">= {inner_ndims}, more than event_ndims={event_ndims}."
                )
        self._bijector = bijector
        self._num_kept = num_kept
        self._event_ndims = int(event_ndims)
        with tf.name_scope(name) as name:
            super().__init__(
                forward_min_event_ndims=self._event_ndims,
                is_constant_jacobian=bijector.is_constant_jacobian,
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @property
    def bijector(self):
        return self._bijector

    @property
    def num_kept(self):
        return self._num_kept

    def _sizes(self, x):
        channels = x.shape[-1]
        if channels is None:
            raise ValueError("MultiScaleSplit needs a static size for the last axis.")
        kept = channels // 2 if self._num_kept is None else self._num_kept
        if self.validate_args and not 0 < kept < channels:
            raise ValueError(
                f"{self.name}: num_kept={self._num_kept} invalid for {channels} channels "
                "(the split needs 0 < num_kept < channels)."
            )
        return [kept, channels - kept]

    def _inner_output(self, transformed, kept, direction):
        """The inner bijector's `direction` output, checked to keep `kept`'s shape."""
        if not self.validate_args:
            return transformed
        message = (
            f"{self.name}: the {direction} output of the inner bijector {self._bijector.name} "
            f"does not have the shape of the kept part, {kept.shape}"
        )
        assertions = _checks.check_shape(transformed, kept.shape, lambda: tf.shape(kept), message)
        return _checks.with_dependencies(transformed, assertions)

    # One pass per direction: the inner bijector's log-det is read from its
    # cache for the very tensor it just transformed, not recomputed.
    def _forward_and_log_det(self, x, **kwargs):
        kept, rest = tf.split(x, self._sizes(x), axis=-1)
        transformed = self._bijector.forward(kept, **kwargs)
        fldj = self._bijector.forward_log_det_jacobian(kept, self._event_ndims, **kwargs)
        y = tf.concat([self._inner_output(transformed, kept, "forward"), rest], axis=-1)
        return y, fldj

    def _inverse_and_log_det(self, y, **kwargs):
        kept, rest = tf.split(y, self._sizes(y), axis=-1)
        transformed = self._bijector.inverse(kept, **kwargs)
        ildj = self._bijector.inverse_log_det_jacobian(kept, self._event_ndims, **kwargs)
        x = tf.concat([self._inner_output(transformed, kept, "inverse"), rest], axis=-1)
        return x, ildj
