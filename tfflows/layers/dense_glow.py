"""Glow over vectors: steps of actnorm, an invertible D x D matrix and a dense coupling."""

import keras

from tfflows import bijectors
from tfflows.layers.flow import FlowModel, as_conditional_shape
from tfflows.layers.glow_step import GlowStep

__all__ = ["DenseGlow"]


@keras.saving.register_keras_serializable(package="tfflows")
class DenseGlow(FlowModel):
    """`num_steps` Glow steps over vectors `[D]`, optionally conditioned on a vector.

    Data-to-latent, each step (`GlowStep(network="dense")`, Glow's Figure 2a
    with the 1x1 convolution read as a D x D matrix): actnorm, an invertible
    linear map `W = P L (U + diag(s))` (LU-parameterised, from a random
    rotation), and an affine coupling that rescales and shifts the last
    `D - D // 2` features by a fully connected network of the first `D // 2`
    (and of the conditional input, concatenated to it). The learned matrices
    mix the halves between couplings, so no fixed permutation is needed.

      log p(x | c) = log N(f^-1(x; c); 0, I) + log|det d f^-1(x; c) / dx|.

    A new flow is the identity up to its rotations (the couplings' last layers
    start at zero), so with the default "tanh" scale a new conditional flow maps
    `N(0, I)` to `N(0, I)` whatever the conditional input.

    Args:
      event_size: D (at least 2).
      num_steps: number of steps (one coupling each).
      hidden_units: width of the coupling networks.
      num_hidden_layers: hidden layers per coupling network.
      scale_activation: scale of the affine couplings (see `bijectors.AffineCoupling`).
      conditional_shape: shape `(d,)` of one example's conditional input, or None.
      seed: seed of the first step's initial rotation (step k: `seed + k`); None
        draws them from NumPy's global RNG.
    """

    event_ndims = 1

    def __init__(
        self,
        event_size,
        num_steps=3,
        hidden_units=64,
        num_hidden_layers=2,
        scale_activation="tanh",
        conditional_shape=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.event_size = int(event_size)
        if self.event_size < 2:
            raise ValueError(f"DenseGlow needs event_size >= 2, got {event_size}.")
        self.num_steps = int(num_steps)
        if self.num_steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {num_steps}.")
        self.hidden_units = int(hidden_units)
        self.num_hidden_layers = int(num_hidden_layers)
        self.scale_activation = scale_activation
        self.conditional_shape = as_conditional_shape(conditional_shape)
        self.seed = seed
        self.steps = [
            GlowStep(
                network="dense",
                hidden_units=self.hidden_units,
                num_hidden_layers=self.num_hidden_layers,
                scale_activation=scale_activation,
                conditional_shape=self.conditional_shape,
                seed=None if seed is None else seed + k,
                name=f"step{k}",
                dtype=self.dtype_policy,
            )
            for k in range(self.num_steps)
        ]
        self.build((None, self.event_size))

    @property
    def event_shape(self):
        return (self.event_size,)

    def build(self, input_shape):
        for step in self.steps:
            step.build((None, self.event_size))

    def bijector(self, conditional_input=None):
        # Listed in data-to-latent order; a chain applies them right to left.
        return bijectors.FlowChain(
            [step.bijector(conditional_input) for step in self.steps], event_ndims=1
        )

    def get_config(self):
        return {
            **super().get_config(),
            "event_size": self.event_size,
            "num_steps": self.num_steps,
            "hidden_units": self.hidden_units,
            "num_hidden_layers": self.num_hidden_layers,
            "scale_activation": self.scale_activation,
            "conditional_shape": self.conditional_shape,
            "seed": self.seed,
        }
