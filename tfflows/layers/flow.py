"""The interface shared by every tfflows flow layer."""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfflows._internals import sublayers

__all__ = [
    "Flow",
    "FlowModel",
    "as_conditional_shape",
    "conditional_units",
    "initializing",
    "standard_normal",
]


def standard_normal(shape, seed=None, dtype=tf.float32):
    """`N(0, I)` noise; deterministic for a given seed.

    `seed` is None (fresh noise), a Python int or an integer scalar tensor, or
    a shape-`[2]` integer tensor (a stateless seed). Stateless sampling makes
    `sample(..., seed=s)` bit-identical across calls, processes and the
    exported SavedModel.
    """
    if seed is None:
        return tf.random.normal(shape, dtype=dtype)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape.rank == 0:
        seed = tf.stack([seed, tf.constant(0, tf.int64)])
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype)


def as_conditional_shape(conditional_shape):
    """`conditional_shape` checked and as a tuple of ints, or None (unconditional).

    `conditional_shape` is the shape of one example's conditional input, without
    the batch axis: `(d,)` for a vector, `(h, w, c)` for an image. Every layer
    that takes a conditional input declares it under this one name.
    """
    if conditional_shape is None:
        return None
    shape = tuple(int(d) for d in conditional_shape)
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ValueError(
            f"conditional_shape must be None, (d,) or (h, w, c) of positive sizes, got "
            f"{conditional_shape!r}."
        )
    return shape


def conditional_units(conditional_shape):
    """Size of the last axis of a conditional input of `conditional_shape` (0 if None)."""
    shape = as_conditional_shape(conditional_shape)
    return 0 if shape is None else shape[-1]


class initializing:  # noqa: N801 (a context manager, named like one)
    """Puts the layers with `data_dependent_init` inside `layers` in init mode."""

    def __init__(self, layers):
        self._layers = [
            sub
            for layer in layers
            for sub in sublayers(layer)
            if getattr(sub, "data_dependent_init", False)
        ]

    def __enter__(self):
        if tf.inside_function():
            raise RuntimeError(
                "Data-dependent initialisation must run eagerly, not in a tf.function."
            )
        for layer in self._layers:
            layer._initializing = True
        return self

    def __exit__(self, *exc_info):
        for layer in self._layers:
            layer._initializing = False


class Flow(keras.layers.Layer):
    """A Keras layer that owns weights and builds a TFP bijector from them.

    Subclasses implement `bijector(conditional_input=None)`, returning a fresh
    `tfp.bijectors.Bijector` whose forward maps latent to data, built from the
    layer's current weights. A fresh bijector per call is what keeps the
    weights live (TFP sees Keras variables as constants once converted) and
    keeps TFP's cache from returning results of older weights. When the flow is
    conditional, `bijector(conditional_input=c)` fixes `c` with
    `bijectors.Conditioned` (the one binding mechanism; see `tfflows.bijectors`),
    so callers never route `bijector_kwargs` by name. A conditional flow takes
    `conditional_shape` (one example's conditional input shape) at construction.

    `call(x)` runs the density direction and returns `(z, log_det)`, where
    `log_det = log|det dz/dx|` per example: what a likelihood needs. It is
    also the way to run a flow whose networks have a training mode (batch
    norm): `flow(x, training=True)` sets the mode for every layer inside,
    while the methods (`log_prob`, `sample`, ...) run in inference mode.

    Dtypes: a flow's maths (transforms, log-dets, densities, noise) runs in the
    variables' dtype; under a mixed policy (e.g. "mixed_bfloat16") only the
    coupling networks compute in the policy's compute dtype, their outputs cast
    back (`Coupling`), so likelihoods keep float32 precision.

    Args:
      validate_args: build bijectors with `validate_args=True` (TFP's argument
        checks: shapes of the conditioners' outputs, invertibility of the
        parameters; see `tfflows.bijectors`). Flows made of flows pass it on to
        their parts. Default False: no checks, nothing added to the graph.
    """

    #: Rank of the event the flow transforms (3 for images, 1 for vectors).
    event_ndims = 1

    def __init__(self, validate_args=False, **kwargs):
        super().__init__(**kwargs)
        self.validate_args = bool(validate_args)

    def bijector(self, conditional_input=None):
        raise NotImplementedError

    def forward(self, z, conditional_input=None):
        """Latent to data."""
        return self.bijector(conditional_input).forward(z)

    def inverse(self, x, conditional_input=None):
        """Data to latent."""
        return self.bijector(conditional_input).inverse(x)

    def forward_and_log_det(self, z, conditional_input=None):
        """Returns `(x, log|det dx/dz|)`, one evaluation of every network."""
        bijector = self.bijector(conditional_input)
        x = bijector.forward(z)
        return x, bijector.forward_log_det_jacobian(z, event_ndims=self.event_ndims)

    def inverse_and_log_det(self, x, conditional_input=None):
        """Returns `(z, log|det dz/dx|)`, one evaluation of every network."""
        bijector = self.bijector(conditional_input)
        z = bijector.inverse(x)
        return z, bijector.inverse_log_det_jacobian(x, event_ndims=self.event_ndims)

    def initialize(self, x, conditional_input=None):
        """Data-dependent initialisation on the batch `x`; returns `z`.

        Runs the data-to-latent pass eagerly with every sub-layer that has
        data-dependent parameters (actnorm) in initialisation mode: each one
        sets its parameters from the tensor that reaches it, then passes on
        the normalised tensor. Call it once before training, under the
        strategy's scope if there is one (outside any `tf.function`).
        """
        with initializing([self]):
            return self.inverse(x, conditional_input)

    def call(self, inputs, conditional_input=None, training=None):
        # `training` reaches the networks through Keras' call context.
        del training
        return self.inverse_and_log_det(inputs, conditional_input)

    def get_config(self):
        return {**super().get_config(), "validate_args": self.validate_args}


class FlowModel(Flow):
    """A flow from `N(0, I)` on a fixed `event_shape` to data of that shape.

    Adds the density and sampling of `p(x) = N(f^-1(x); 0, I) |det df^-1/dx|`.
    """

    @property
    def event_shape(self):
        raise NotImplementedError

    def base_log_prob(self, z):
        """Standard normal log-density of `z`, summed over the event."""
        axes = list(range(-len(self.event_shape), 0))
        dims = math.prod(self.event_shape)
        log_2pi = tf.constant(math.log(2.0 * math.pi), z.dtype)
        return -0.5 * (tf.reduce_sum(tf.square(z), axis=axes) + dims * log_2pi)

    def log_prob(self, x, conditional_input=None):
        """Log-density of `x` under the flow, per example (nats)."""
        z, log_det = self.inverse_and_log_det(x, conditional_input)
        return self.base_log_prob(z) + log_det

    def sample(self, num_samples, temperature=1.0, seed=None, conditional_input=None):
        """`x = f(T * eps)`, `eps ~ N(0, I)`: Glow's reduced-temperature sampling.

        Scaling the base noise by `T` scales the standard deviation of every
        prior (the learned priors of a multi-scale flow included) by `T`.
        """
        shape = tf.concat([tf.reshape(num_samples, [1]), self.event_shape], axis=0)
        eps = standard_normal(shape, seed, dtype=self.variable_dtype)
        return self.forward(tf.cast(temperature, eps.dtype) * eps, conditional_input)

    def distribution(self, conditional_input=None):
        """The flow as a `tfd.TransformedDistribution`, for TFP users."""
        tfd = tfp.distributions
        base = tfd.Sample(
            tfd.Normal(tf.constant(0.0, self.variable_dtype), 1.0), sample_shape=self.event_shape
        )
        return tfd.TransformedDistribution(base, self.bijector(conditional_input))
