"""Glow's multi-scale architecture (Glow, Figure 2b; RealNVP, section 3.6)."""

import keras
import tensorflow_probability as tfp

from tfflows import bijectors
from tfflows.layers.coupling import Coupling
from tfflows.layers.flow import FlowModel, as_conditional_shape
from tfflows.layers.glow_step import GlowStep

__all__ = ["MultiScaleFlow"]


@keras.saving.register_keras_serializable(package="tfflows")
class MultiScaleFlow(FlowModel):
    """L levels of (squeeze, K Glow steps, split) from `N(0, I)` to images `[H, W, C]`.

    Data-to-latent, level by level: squeeze `[h, w, c] -> [h/2, w/2, 4c]`,
    K steps of actnorm -> 1x1 conv -> coupling, then split the channels in
    half: `z2` is factored out with Glow's learned conditional prior
    `N(mu(z1), sigma(z1)^2)` (a zero-initialised 3x3 conv of `z1`) and `z1`
    continues to the next level; the last level has no split. The prior is an
    affine coupling onto standard normal noise (see `bijectors.MultiScaleSplit`),
    so the whole flow is one bijector whose latent has the shape of the image
    and a standard normal base:

      log p(x) = log N(z; 0, I) + log|det dz/dx|.

    Finite samples by construction. Sampling runs latent to data, and there
    no scale grows with the sample. The couplings' "contracting" scale (the
    `Glow` model's) multiplies `x_b` by `sigmoid(h + 2)` floored at `e^-1`,
    a factor in (0.37, 1], so `|y_b| <= |x_b| + |t|` whatever the network
    outputs ("tanh" bounds the factor by `e`, additive couplings have none; a
    "mixlogistic" coupling's sampling direction returns a point between its
    components' quantiles `mu_i + exp(s_i) t`, `|t| <= e (|x_b| + |b|)`);
    the priors at the splits scale their noise by at most `e^5` ("capped_exp").
    What is left are the actnorms, the 1x1 convolutions and the networks'
    shifts, whose gains are set by the weights and not by the sample, so
    `T * eps` (`0 <= T <= 1`) reaches the image through a map of bounded
    gain. Glow's own code divides by `sigmoid(h + 2)` when sampling (a
    factor that a network output of -90 makes infinite) and scales its priors
    by an unbounded `exp`: after 600 steps on 28x28 MNIST (the small preset)
    that gave 58-205 non-finite images of 1,000 at T = 1 over three seeds,
    and this flow none, at a test bits/dim 0.7-0.9 lower
    (`benchmarks/glow_sampling.py`).

    With `squeeze=False` and `num_levels=1` this is K steps at the input
    resolution, the flow-decoder VAE's pixel-space Glow layer (it needs at
    least 2 channels). A conditional input (an image `[H, W, Cc]`, squeezed
    along with the levels, or a vector `[D]`) reaches every coupling and
    prior network.

    Args:
      event_shape: `(H, W, C)`; `H` and `W` must divide by `2**num_levels`
        when squeezing.
      num_levels: L.
      num_steps: K, steps per level.
      hidden_units: width of the coupling networks (Glow: 512).
      coupling: "affine", "additive" or "mixlogistic" (Flow++'s mixture-of-logistics
        CDF coupling: closed form data to latent, bisection when sampling).
      scale_activation: scale of the affine couplings ("tanh", "contracting",
        "sigmoid", "exp", ...; see `bijectors.AffineCoupling`).
      kernel_size: first and last kernel of the coupling networks.
      squeeze: squeeze at the start of every level.
      split: factor out half of the channels after every level but the last.
      conditional_shape: shape of a conditional input, or None.
      seed: seed of the 1x1 convolutions' initial rotations (None: random).
      conv1x1_init: "rotation" (Glow) or "identity": with it, additive or "tanh"
        couplings and actnorms left uninitialised, a new flow is the identity map.
      prior_scale_activation: the priors' scale, `z2 = eps2 * sigma + mu`:
        "capped_exp" (`sigma < e^5` whatever the network outputs) or Glow's
        unbounded "exp" (for comparisons: it can overflow when sampling).
      num_components: mixture components of "mixlogistic" couplings (Flow++: 32).
      network: the coupling networks, "conv" (Glow's) or "gated" (Flow++'s gated
        convolutions and self-attention, `GatedConditioner`).
      num_hidden_layers: blocks of the "gated" coupling networks (Flow++: 10).
      validate_args: see `Flow`; passed on to every step, prior, squeeze and split.
    """

    event_ndims = 3

    def __init__(
        self,
        event_shape,
        num_levels=3,
        num_steps=8,
        hidden_units=512,
        coupling="affine",
        scale_activation="tanh",
        kernel_size=3,
        squeeze=True,
        split=True,
        conditional_shape=None,
        seed=None,
        conv1x1_init="rotation",
        prior_scale_activation="capped_exp",
        num_components=4,
        network="conv",
        num_hidden_layers=2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._event_shape = tuple(int(d) for d in event_shape)
        if len(self._event_shape) != 3:
            raise ValueError(f"event_shape must be (H, W, C), got {event_shape}.")
        self.num_levels = int(num_levels)
        self.num_steps = int(num_steps)
        self.hidden_units = int(hidden_units)
        self.coupling_kind = coupling
        self.scale_activation = scale_activation
        self.kernel_size = int(kernel_size)
        self.squeeze = bool(squeeze)
        self.split = bool(split)
        self.conditional_shape = as_conditional_shape(conditional_shape)
        self.seed = seed
        self.conv1x1_init = conv1x1_init
        self.prior_scale_activation = prior_scale_activation
        self.num_components = int(num_components)
        if network not in ("conv", "gated"):
            raise ValueError(f"network must be 'conv' or 'gated' (images), got {network!r}.")
        self.network, self.num_hidden_layers = network, int(num_hidden_layers)
        self._check_shapes()
        self.steps, self.priors, self._level_shapes = [], [], []
        shape, cond = self._event_shape, self.conditional_shape
        for level in range(self.num_levels):
            if self.squeeze:
                shape = (shape[0] // 2, shape[1] // 2, shape[2] * 4)
                if cond is not None and len(cond) == 3:
                    cond = (cond[0] // 2, cond[1] // 2, cond[2] * 4)
            self._level_shapes.append(shape)
            for step in range(self.num_steps):
                self.steps.append(
                    GlowStep(
                        coupling=coupling,
                        hidden_units=hidden_units,
                        kernel_size=kernel_size,
                        scale_activation=scale_activation,
                        conditional_shape=cond,
                        seed=None if seed is None else seed * 1000 + level * 100 + step,
                        conv1x1_init=conv1x1_init,
                        num_components=num_components,
                        network=network,
                        num_hidden_layers=self.num_hidden_layers,
                        name=f"level{level}_step{step}",
                        dtype=self.dtype_policy,
                        validate_args=self.validate_args,
                    )
                )
            if self._splits_after(level):
                kept = shape[2] // 2
                self.priors.append(
                    Coupling(
                        kind="affine",
                        network="conv",
                        hidden_units=None,
                        kernel_size=kernel_size,
                        num_masked=kept,
                        scale_activation=prior_scale_activation,
                        conditional_shape=cond,
                        name=f"level{level}_prior",
                        dtype=self.dtype_policy,
                        validate_args=self.validate_args,
                    )
                )
                shape = (shape[0], shape[1], kept)
        self.build((None,) + self._event_shape)

    def _splits_after(self, level):
        return self.split and level < self.num_levels - 1

    def _check_shapes(self):
        h, w, c = self._event_shape
        if self.squeeze:
            factor = 2**self.num_levels
            if h % factor or w % factor:
                raise ValueError(
                    f"{self.num_levels} squeezing levels need H and W divisible by {factor}, "
                    f"got {h}x{w}: pad the images (e.g. MNIST to 32x32) or use fewer levels."
                )
        elif c < 2:
            raise ValueError("Without squeeze the couplings need at least 2 channels.")
        if self.conditional_shape is not None and len(self.conditional_shape) == 3:
            if tuple(self.conditional_shape[:2]) != (h, w):
                raise ValueError("An image conditional input must have the event's H and W.")

    @property
    def event_shape(self):
        return self._event_shape

    def build(self, input_shape):
        steps, priors = iter(self.steps), iter(self.priors)
        for level, shape in enumerate(self._level_shapes):
            for _ in range(self.num_steps):
                next(steps).build((None,) + shape)
            if self._splits_after(level):
                next(priors).build((None,) + shape)

    def bijector(self, conditional_input=None):
        return self._level_bijector(0, conditional_input)

    def _level_bijector(self, level, cond):
        """The bijector of levels `level..L-1`, latent `[h, w, c]` to data `[h, w, c]`."""
        tfb = tfp.bijectors
        checks = dict(validate_args=self.validate_args)
        if self.squeeze and cond is not None and cond.shape.rank == 4:
            cond = bijectors.Squeeze(**checks).forward(cond)
        first = level * self.num_steps
        # Listed in data-to-latent order; a Chain applies them right to left.
        parts = [tfb.Invert(bijectors.Squeeze(**checks))] if self.squeeze else []
        parts += [s.bijector(cond) for s in self.steps[first : first + self.num_steps]]
        if level < self.num_levels - 1:
            inner = self._level_bijector(level + 1, cond)
            if self._splits_after(level):
                prior = self.priors[level]
                split = bijectors.MultiScaleSplit(inner, prior.num_masked, **checks)
                parts += [prior.bijector(cond), split]
            else:
                parts.append(inner)
        if self.squeeze:
            parts.append(bijectors.Squeeze(**checks))
        return bijectors.FlowChain(parts, event_ndims=3, **checks)

    def get_config(self):
        return {
            **super().get_config(),
            "event_shape": self._event_shape,
            "num_levels": self.num_levels,
            "num_steps": self.num_steps,
            "hidden_units": self.hidden_units,
            "coupling": self.coupling_kind,
            "scale_activation": self.scale_activation,
            "kernel_size": self.kernel_size,
            "squeeze": self.squeeze,
            "split": self.split,
            "conditional_shape": self.conditional_shape,
            "seed": self.seed,
            "conv1x1_init": self.conv1x1_init,
            "prior_scale_activation": self.prior_scale_activation,
            "num_components": self.num_components,
            "network": self.network,
            "num_hidden_layers": self.num_hidden_layers,
        }
