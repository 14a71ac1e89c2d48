"""Glow (Kingma & Dhariwal, 2018): the flow baseline the papers compare against."""

import keras
import tensorflow as tf

from tfflows.layers import MultiScaleFlow
from tfflows.models.base import GenerativeModel, max_halvings
from tfflows.models.registry import register

__all__ = ["Glow"]


def default_num_levels(image_shape, max_levels=3):
    """Glow's 3 levels at 32x32, fewer when the sides do not divide by 2**L."""
    levels = max_halvings(image_shape, max_levels)
    if levels == 0:
        raise ValueError(f"Glow needs even image sides, got {image_shape[:2]}: pad the images.")
    return levels


_SMALL = dict(num_steps=4, hidden_units=64, dequantization_steps=2, dequantization_hidden_units=32)


@register("glow", presets={"small": _SMALL})
@keras.saving.register_keras_serializable(package="tfflows")
class Glow(GenerativeModel):
    """Multi-scale Glow on uniformly (or variationally) dequantized images.

    `log p(x_n) >= log p_flow(y) - D n log 2` with `y = (x_n + u) / 2^n - 0.5`:
    the exact flow density of the dequantized image, reported in nats and
    bits/dim (Glow, section 5; RealNVP, section 4.1). Training minimises its
    negative in bits/dim. Sampling: `y = f(T * eps)`, shown as `y + 0.5`.

    With `dequantization="variational"`, `u ~ q(u | x)` is learned with the flow
    (Flow++, section 3.1; `layers.VariationalDequantization`) and the number is
    the bound `log p_flow(y) - log q(u | x) - D n log 2` of eq. 12, one `u` per
    image (`likelihood_kind` "elbo"; `num_importance_samples=K` gives `IW_K`).

    Defaults follow the Glow paper (K = 32 steps per level, 512 hidden units,
    affine coupling with Glow's `sigmoid(h + 2)` scale, LU 1x1 convolutions,
    learned prior at every split), with `L = 3` levels reduced to what the
    image sides allow (`default_num_levels`). One departure, for finite
    samples: the coupling applies `sigmoid(h + 2)` (floored at `e^-1`) when
    sampling, as `tfp.bijectors.Glow` does, where Glow's code divides by it,
    and the priors' scales are capped at `e^5` ("contracting" scale and
    priors: see `tfflows.layers.MultiScaleFlow`).

    Args:
      image_shape: `(H, W, C)`.
      num_levels: L (None: `default_num_levels(image_shape)`).
      num_steps: K.
      hidden_units: width of the coupling networks.
      coupling: "affine", "additive" or "mixlogistic" (Flow++'s, 4 components).
      coupling_network: the coupling networks: "conv" (Glow's 3x3-1x1-3x3) or "gated"
        (Flow++'s gated convolutions and self-attention, `layers.GatedConditioner`).
      coupling_blocks: blocks of the "gated" networks (Flow++: 10).
      scale_activation: scale of the affine couplings ("contracting": Glow's
        sigmoid, applied when sampling; see `bijectors.AffineCoupling`);
        "sigmoid" is Glow's code's orientation, which can overflow.
      prior_scale_activation: scale of the learned priors ("capped_exp"; Glow's
        code: "exp", unbounded).
      num_bits: bit depth the model sees (Glow: 5 for CelebA-HQ).
      seed: seed of the 1x1 convolutions' initial rotations.
      dequantization: "uniform" (`u ~ U[0, 1)`, an exact density of y) or
        "variational" (Flow++'s learned `q(u | x)`: a variational bound).
      dequantization_steps: Glow steps of q's flow (variational only).
      dequantization_hidden_units: width of q's coupling and context networks.
      dequantization_context_channels: channels of q's context `h(x)`.
    """

    likelihood_kind = "exact"
    terms = ("loss", "log_likelihood")

    def __init__(
        self,
        image_shape,
        num_levels=None,
        num_steps=32,
        hidden_units=512,
        coupling="affine",
        coupling_network="conv",
        coupling_blocks=2,
        scale_activation="contracting",
        prior_scale_activation="capped_exp",
        num_bits=8,
        seed=None,
        dequantization="uniform",
        dequantization_steps=4,
        dequantization_hidden_units=64,
        dequantization_context_channels=16,
        **kwargs,
    ):
        super().__init__(image_shape, num_bits=num_bits, **kwargs)
        # q(u|x) computes in the flow's dtype, the model's policy.
        self._set_dequantization(
            dequantization,
            dequantization_steps,
            dequantization_hidden_units,
            dequantization_context_channels,
            seed=None if seed is None else seed + 2,
            coupling=coupling,
            network=coupling_network,
            blocks=coupling_blocks,
        )
        self.num_levels = default_num_levels(self.image_shape) if num_levels is None else num_levels
        self.num_steps = int(num_steps)
        self.hidden_units = int(hidden_units)
        self.coupling = coupling
        self.coupling_network, self.coupling_blocks = coupling_network, int(coupling_blocks)
        self.scale_activation = scale_activation
        self.prior_scale_activation = prior_scale_activation
        self.seed = seed
        self.flow = MultiScaleFlow(
            self.image_shape,
            num_levels=self.num_levels,
            num_steps=self.num_steps,
            hidden_units=self.hidden_units,
            coupling=coupling,
            scale_activation=scale_activation,
            prior_scale_activation=prior_scale_activation,
            seed=seed,
            network=coupling_network,
            num_hidden_layers=self.coupling_blocks,
            name="flow",
            dtype=self.dtype_policy,
        )
        self.built = True  # every weight exists now; nothing waits for an input shape

    def per_example_terms(self, images, training=False, seed=None):
        if self.dequantizer is None:
            log_density = self.flow.log_prob(self.model_space(images, seed=seed))
        else:  # one u ~ q(u|x) per image, from the seeds of sample 0 (IW_1 is this bound)
            seeds = self.noise_seeds(images, seed)
            log_density = self.importance_log_weights(self.check_images(images), seeds)
        log_likelihood = self.discrete_log_likelihood(log_density)
        return {
            "loss": self.loss_from_objective(log_likelihood),
            "log_likelihood": log_likelihood,
        }

    def importance_log_weights(self, y, seeds=None):
        """`log p(y) - log q(u | x)` per row of uint8 images `y`, `u` from the row's seed."""
        if self.dequantizer is None:
            return super().importance_log_weights(y, seeds)
        y, log_q = self.dequantizer(y, seed=seeds)
        return self.flow.log_prob(y) - log_q

    def sample(self, num_samples, temperature=1.0, seed=None):
        y = self.flow.sample(num_samples, temperature=temperature, seed=seed)
        return tf.cast(self.dequantize.to_unit_interval(y), tf.float32)

    def initialize(self, images):
        if self.dequantizer is None:
            self.flow.initialize(self.model_space(images, seed=0))
        else:  # on y from the new q(u|x), whose own actnorms stay at the identity
            self.flow.initialize(self.dequantizer(self.check_images(images), seed=0)[0])

    def get_config(self):
        return {
            **super().get_config(),
            "num_levels": self.num_levels,
            "num_steps": self.num_steps,
            "hidden_units": self.hidden_units,
            "coupling": self.coupling,
            "coupling_network": self.coupling_network,
            "coupling_blocks": self.coupling_blocks,
            "scale_activation": self.scale_activation,
            "prior_scale_activation": self.prior_scale_activation,
            "seed": self.seed,
            **self._dequantization_config(),
        }
