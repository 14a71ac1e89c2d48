"""Dense RealNVP flow for latent vectors (RealNVP; GLF, Figure 1b)."""

import keras
import numpy as np
import tensorflow_probability as tfp

from tfflows import bijectors
from tfflows.layers.coupling import Coupling
from tfflows.layers.flow import FlowModel, as_conditional_shape

__all__ = ["RealNVP"]

PERMUTE_EVERY = ("coupling", "block")


@keras.saving.register_keras_serializable(package="tfflows")
class RealNVP(FlowModel):
    """Blocks of two affine couplings in alternating pattern over vectors `[D]`.

    Data-to-latent, each block: a coupling conditioned on the first half, a
    fixed random permutation, a coupling conditioned on the last half, another
    fixed random permutation (GLF: 4 blocks, conditioners of 3 fully
    connected layers of 64 or 256 units; a permutation after each coupling is
    GLF's Figure 1b). With `permute_every="block"` the first permutation of
    each block is left out: the two couplings then transform the two halves
    in turn and one permutation mixes them per block, the layout of FrEIA's
    `RNVPCouplingBlock` + `PermuteRandom` that GLF's reference code trains.
    Permutations are drawn from `permutation_seed`, so they are part of the
    config, not of the weights.

      log p(x) = log N(z; 0, I) + sum of the couplings' log-scales.

    Args:
      event_size: D.
      num_blocks: number of blocks (two couplings each).
      hidden_units: width of the conditioners.
      num_hidden_layers: hidden layers per conditioner.
      scale_activation: "tanh" (default), "sigmoid", "exp" or "atan" (FrEIA's
        soft clamp at 2, GLF's reference code; see `bijectors.AffineCoupling`).
      conditional_shape: shape `(d,)` of one example's conditional input, or None.
      permutation_seed: seed of the fixed permutations.
      permute_every: "coupling" (Figure 1b) or "block" (the reference code's
        FrEIA layout).
      separate_networks: separate shift and log-scale networks per coupling
        (RealNVP's `s` and `t`; see `DenseConditioner`).
      batch_norm: batch normalization in the coupling networks; train with
        `flow(x, training=True)` (the layer's call), since `log_prob` and
        `sample` run in inference mode.
      affine_direction: "forward" or "inverse": the direction in which each
        coupling computes `x_b * exp(s) + t`. "inverse" is GLF's section 3.1
        (and FrEIA's `RNVPCouplingBlock`), which writes the flow's couplings
        data to latent; "forward" (default) is TFP's `RealNVP`.
      validate_args: see `Flow`; passed on to the couplings and the chain.
    """

    event_ndims = 1

    def __init__(
        self,
        event_size,
        num_blocks=4,
        hidden_units=64,
        num_hidden_layers=2,
        scale_activation="tanh",
        conditional_shape=None,
        permutation_seed=0,
        permute_every="coupling",
        separate_networks=False,
        batch_norm=False,
        affine_direction="forward",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.event_size = int(event_size)
        if self.event_size < 2:
            raise ValueError(f"RealNVP needs event_size >= 2, got {event_size}.")
        self.num_blocks = int(num_blocks)
        self.hidden_units = int(hidden_units)
        self.num_hidden_layers = int(num_hidden_layers)
        self.scale_activation = scale_activation
        self.conditional_shape = as_conditional_shape(conditional_shape)
        self.permutation_seed = int(permutation_seed)
        if permute_every not in PERMUTE_EVERY:
            raise ValueError(
                f"permute_every must be one of {PERMUTE_EVERY}, got {permute_every!r}."
            )
        self.permute_every = permute_every
        self.separate_networks = bool(separate_networks)
        self.batch_norm = bool(batch_norm)
        self.affine_direction = affine_direction
        rng = np.random.default_rng(self.permutation_seed)
        # One entry per coupling: the permutation that follows it, or None.
        self.permutations = [
            None
            if permute_every == "block" and i % 2 == 0
            else rng.permutation(self.event_size).astype(np.int32)
            for i in range(2 * self.num_blocks)
        ]
        half = self.event_size // 2
        self.couplings = [
            Coupling(
                kind="affine",
                network="dense",
                hidden_units=hidden_units,
                num_hidden_layers=num_hidden_layers,
                num_masked=half if i % 2 == 0 else -half,
                scale_activation=scale_activation,
                conditional_shape=self.conditional_shape,
                separate_networks=self.separate_networks,
                batch_norm=self.batch_norm,
                affine_direction=affine_direction,
                name=f"coupling{i}",
                dtype=self.dtype_policy,
                validate_args=self.validate_args,
            )
            for i in range(2 * self.num_blocks)
        ]
        self.build((None, self.event_size))

    @property
    def event_shape(self):
        return (self.event_size,)

    def build(self, input_shape):
        for coupling in self.couplings:
            coupling.build((None, self.event_size))

    def bijector(self, conditional_input=None):
        parts = []
        # Listed in data-to-latent order; a Chain applies them right to left.
        for coupling, permutation in zip(self.couplings, self.permutations):
            parts.append(coupling.bijector(conditional_input))
            if permutation is not None:
                parts.append(tfp.bijectors.Permute(permutation, validate_args=self.validate_args))
        return bijectors.FlowChain(parts, event_ndims=1, validate_args=self.validate_args)

    def get_config(self):
        return {
            **super().get_config(),
            "event_size": self.event_size,
            "num_blocks": self.num_blocks,
            "hidden_units": self.hidden_units,
            "num_hidden_layers": self.num_hidden_layers,
            "scale_activation": self.scale_activation,
            "conditional_shape": self.conditional_shape,
            "permutation_seed": self.permutation_seed,
            "permute_every": self.permute_every,
            "separate_networks": self.separate_networks,
            "batch_norm": self.batch_norm,
            "affine_direction": self.affine_direction,
        }
