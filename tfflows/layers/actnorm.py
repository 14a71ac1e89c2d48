"""Activation normalisation with data-dependent initialisation (Glow, section 3.1)."""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfflows import bijectors
from tfflows.layers.flow import Flow

__all__ = ["ActNorm"]


@keras.saving.register_keras_serializable(package="tfflows")
class ActNorm(Flow):
    """Per-channel affine flow `x = z * exp(log_scale) + loc` over the last axis.

    Glow initialises `loc` and `log_scale` from the first batch so that the
    data-to-latent output has zero mean and unit variance per channel. Here
    that is an explicit, eager call: `initialize(x)` (usually through the
    enclosing flow's `initialize`) sets `loc = mean(x)`, `log_scale =
    log(std(x) + eps)` over every axis but the last. Doing it outside the
    training step is what makes it work under `tf.distribute` (a `tf.cond` on
    an "initialised" flag inside the step does not), and assigning in the
    cross-replica context leaves all replicas identical.

    Args:
      event_ndims: rank of the events the layer belongs to (3 for images),
        used for the log-det reduction.
      epsilon: added to the standard deviation at initialisation.
      validate_args: see `Flow`; checks that the scale is positive and finite.
    """

    data_dependent_init = True

    def __init__(self, event_ndims=3, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.event_ndims = int(event_ndims)
        self.epsilon = float(epsilon)
        self._initializing = False

    def build(self, input_shape):
        channels = input_shape[-1]
        self.loc = self.add_weight(shape=(channels,), initializer="zeros", name="loc")
        self.log_scale = self.add_weight(shape=(channels,), initializer="zeros", name="log_scale")
        self.initialized = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="initialized"
        )

    def bijector(self, conditional_input=None):
        del conditional_input
        if self._initializing:
            return tfp.bijectors.Inline(
                forward_fn=lambda x: self.bijector().forward(x),
                inverse_fn=self._initialize_and_normalize,
                inverse_log_det_jacobian_fn=lambda y: -tf.reduce_sum(self.log_scale),
                forward_min_event_ndims=1,
                is_constant_jacobian=True,
                name="act_norm_init",
            )
        return bijectors.ActNorm(self.loc, self.log_scale, validate_args=self.validate_args)

    def _initialize_and_normalize(self, y):
        axes = list(range(len(y.shape) - 1))
        mean, variance = tf.nn.moments(y, axes=axes)
        self.loc.assign(tf.cast(mean, self.loc.dtype))
        self.log_scale.assign(
            tf.cast(tf.math.log(tf.sqrt(variance) + self.epsilon), self.loc.dtype)
        )
        self.initialized.assign(1.0)
        normalize = bijectors.ActNorm(self.loc, self.log_scale, validate_args=self.validate_args)
        return normalize.inverse(y)

    def get_config(self):
        return {**super().get_config(), "event_ndims": self.event_ndims, "epsilon": self.epsilon}
