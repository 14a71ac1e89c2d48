"""f-VAE (Su & Wu 2018, eq. 14-16): a VAE whose posterior is `F(sigma1 u + E(x))`.

Model (eq. 14), on model-space images `y` in `[-0.5, 0.5]` (the paper uses
pixels in [-1, 1]; here the dequantized space of every tfflows model, so no
rescaling log-det is needed and the tanh of `G` is scaled by 0.5):

    F_x(u) = F(sigma1 u + E(y)),   q(z) = N(0, I),   q(y|z) = N(y; G(F^-1(z)), sigma2^2 I).

Direction. The paper's `F` maps the encoder space `w` to the standard-normal
latent `z`, and samples with `z = F^-1(u)`. A tfflows flow's forward maps its
standard-normal latent to its data, so with `self.flow` a `MultiScaleFlow` on
the shape of `E(y)`:  paper `F` = `flow.inverse` (w -> z), paper `F^-1` =
`flow.forward` (z -> w), and `log|det dF/dw| = flow.inverse_log_det_jacobian`.

Loss (15) from (6). With `w = sigma1 u + E(y)` and `z = F(w)`, `dz/du = dF/dw *
sigma1 I`, so over the D dimensions of u

    log|det dF_x(u)/du| = log|det dF(w)/dw| + D log sigma1,
    log q(F_x(u)) + log|det dF(w)/dw| = log p_flow(w)          (the flow's density of w),
    -log q(y | F_x(u)) = ||y - G(w)||^2 / (2 sigma2^2) + D log sigma2 + D/2 log 2 pi,

because `F^-1(F_x(u)) = w` exactly. Hence, per example,

    L = ||y - G(w)||^2 / (2 sigma2^2) + D log sigma2 - log p_flow(w) - D log sigma1
        - 1/2 ||u||^2   (the two D/2 log 2 pi cancel),

which is (15) with the terms it leaves implicit: `- D log sigma1` (constant in
(15) only for a fixed sigma1) and `+ D log sigma2`, without which a trainable
sigma2 grows without bound (the reconstruction term alone falls as sigma2 grows).
Training minimises L per example through `ConditionalFlowVAE`; `-L` is the ELBO.

Sampling (16): `eps ~ N(0, T^2 I)`, `w = F^-1(eps)`, `y = G(w)`. `encode(x) =
F(E(x))` (= `F_x(0)`), the latent the paper interpolates in (Figures 3, 5, 6).

Architecture (Experiments): `E` = B blocks of (squeeze, residual steps
`x + CNN(x)`), `G` its mirror with an optional `tanh`, `F` a Glow-like
multi-scale flow (actnorm, 1x1 conv, additive coupling as in the author's
Keras reference; learned prior at each split), shallower than Glow. Since E
already squeezes, F splits without squeezing. Its coupling networks are the
reference's 3x3 -> 1x1 -> 3x3 convolutions (`flow_kernel_size=3`): the paper's
"smaller kernel size" is not taken to mean 1x1, because without a squeeze
every other part of F (actnorm, 1x1 convolution, split) acts on each spatial
position alone, so 1x1 couplings would make the prior of `w` a product of
independent per-position densities and samples a patchwork of unrelated
patches (30 minutes on MNIST: FID 240 at an ELBO of 2.50 bits/dim).

Latent size. The paper keeps the image's dimension in `E(x)` (`latent_channels=0`
here). Trained so, sigma2 falls to within 2.5x of the dequantization noise's
standard deviation (MNIST, 10 minutes: sigma1 = 0.0096, sigma2 = 0.0028 against
0.0011): `G` reconstructs almost exactly, so `F` must model `E(x)` as Glow models
`x` (the paper's case 2) and samples are no better than Glow's. An eighth of
the dimensions (the default; 7x7x2 = 98 for MNIST) keeps sigma2 at 0.035,
reconstructions sharp (reconstruction FID 8.5, the VAE's 18.1) and leaves `F` a
smaller density to model: sample FID 67.0 at T = 1 and 58.1 at T = 0.8, against
86.9 and 77.9 with the dimension kept and the VAE's 65.3 and 64.8, at equal
time (10 minutes each; FID of 5,000 samples against 2,000 images of the
validation split; `benchmarks/results/fvae_mnist_*_10min_validation.json`).
"""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tfflows.bijectors import ConditionalAffine, Conditioned, FlowChain
from tfflows.layers import MultiScaleFlow, standard_normal
from tfflows.models.base import max_halvings
from tfflows.models.conditional_flow_vae import ConditionalFlowVAE
from tfflows.models.gaussian import gaussian_log_prob, standard_normal_log_prob
from tfflows.models.registry import register
from tfflows.models.residual_networks import (
    encoded_shape,
    residual_decoder,
    residual_encoder,
)

__all__ = ["FVAE", "default_latent_channels"]


def default_latent_channels(image_shape, encoder_blocks):
    """An eighth of the image's dimensions over `E`'s `H/2^B x W/2^B` positions (at least 2)."""
    height, width, channels = image_shape
    return max(2, channels * 4**encoder_blocks // 8)


def _max_split_levels(channels, maximum):
    """Levels whose splits keep >= 2 channels at every coupling (no squeeze)."""
    levels = 1
    while levels < maximum and channels // 2**levels >= 2:
        levels += 1
    return levels


_SMALL = dict(encoder_steps=1, hidden_units=32, flow_steps=2, flow_hidden_units=32)


@register("fvae", presets={"small": _SMALL})
@keras.saving.register_keras_serializable(package="tfflows")
class FVAE(ConditionalFlowVAE):
    """f-VAE: encoder E, multi-scale flow F, decoder G, trainable sigma1 and sigma2.

    Args:
      image_shape: `(H, W, C)`.
      encoder_blocks: B, squeeze + residual-step blocks of E (None: up to 2, as the sides allow).
      encoder_steps: residual steps per block (the reference: 12 at 128x128).
      hidden_units: width of the residual steps' 3x3 convolutions.
      latent_channels: channels of `E(x)`, made by a final 1x1 convolution (None: an
        eighth of the image's dimensions, at least 2: 2 for 28x28x1; 0: no
        projection, the image's `C 4^B` channels, i.e. the dimension kept). See
        "Latent size" above for why the reduced latent is the default.
      flow_levels: levels of F (None: up to 3, while splits keep 2 channels).
      flow_steps: steps per level of F.
      flow_hidden_units: width of F's coupling networks.
      flow_kernel_size: first and last kernel of F's coupling networks (Glow and the
        reference: 3; 1 makes F act on each spatial position independently).
      coupling: "additive" (the author's reference) or "affine".
      sigma1: initial posterior noise scale.
      sigma2: initial decoder standard deviation.
      learn_sigmas: train sigma1 and sigma2 (the paper does).
      decoder_tanh: end G with `0.5 * tanh`.
      num_bits: bit depth the model sees.
      seed: seed of F's 1x1 convolutions' initial rotations.
    """

    terms = ConditionalFlowVAE.terms + ("sigma1", "sigma2")

    def __init__(
        self,
        image_shape,
        encoder_blocks=None,
        encoder_steps=2,
        hidden_units=64,
        latent_channels=None,
        flow_levels=None,
        flow_steps=4,
        flow_hidden_units=64,
        flow_kernel_size=3,
        coupling="additive",
        sigma1=0.1,
        sigma2=0.1,
        learn_sigmas=True,
        decoder_tanh=True,
        num_bits=8,
        seed=None,
        **kwargs,
    ):
        super().__init__(image_shape, num_bits=num_bits, **kwargs)
        self.encoder_blocks = (
            max_halvings(self.image_shape, 2) if encoder_blocks is None else int(encoder_blocks)
        )
        self.encoder_steps, self.hidden_units = int(encoder_steps), int(hidden_units)
        if latent_channels is None:
            latent_channels = default_latent_channels(self.image_shape, self.encoder_blocks)
        if int(latent_channels) < 0:
            raise ValueError(f"latent_channels must be >= 0 or None, got {latent_channels!r}.")
        self.latent_channels = int(latent_channels) or None
        self.latent_shape = encoded_shape(
            self.image_shape, self.encoder_blocks, self.latent_channels
        )
        self.flow_levels = (
            _max_split_levels(self.latent_shape[-1], 3) if flow_levels is None else int(flow_levels)
        )
        self.flow_steps, self.flow_hidden_units = int(flow_steps), int(flow_hidden_units)
        self.flow_kernel_size, self.coupling = int(flow_kernel_size), coupling
        self.sigma1, self.sigma2 = float(sigma1), float(sigma2)
        self.learn_sigmas, self.decoder_tanh = bool(learn_sigmas), bool(decoder_tanh)
        self.seed = seed
        dtype = self.dtype_policy
        nets = (self.image_shape, self.encoder_blocks, self.encoder_steps, self.hidden_units)
        self.encoder = residual_encoder(*nets, self.latent_channels, dtype=dtype)
        self.decoder = residual_decoder(
            *nets, self.latent_channels, tanh=self.decoder_tanh, dtype=dtype
        )
        self.flow = MultiScaleFlow(
            self.latent_shape,
            num_levels=self.flow_levels,
            num_steps=self.flow_steps,
            hidden_units=self.flow_hidden_units,
            coupling=coupling,
            kernel_size=self.flow_kernel_size,
            squeeze=False,
            seed=seed,
            name="flow",
            dtype=dtype,
        )
        # Positive by construction: the scales are exp of trained logs.
        self.log_sigma1, self.log_sigma2 = (
            self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(math.log(value)),
                trainable=self.learn_sigmas,
                name=name,
            )
            for name, value in (("log_sigma1", self.sigma1), ("log_sigma2", self.sigma2))
        )
        self.built = True  # every weight exists now; nothing waits for an input shape

    # -- eq. (14): posterior, prior, decoder ---------------------------------------------------

    def posterior(self, y):
        """`F_x(u) = F(sigma1 u + E(y))` = `flow.inverse(sigma1 u + E(y))`, forward u -> z.

        The inner map is the foundation's `ConditionalAffine` (eq. 7) with
        `mu = E(y)` and a scalar log-scale, so its log-det is `D log sigma1`.
        """
        log_sigma1 = tf.cast(self.log_sigma1, self.compute_dtype)
        affine = ConditionalAffine(lambda x: (self.encoder(x), log_sigma1), event_ndims=3)
        tfb = tfp.bijectors
        # Applied right to left: u -> sigma1 u + E(y) = w -> F(w) = flow.inverse(w).
        return FlowChain(
            [tfb.Invert(self.flow.bijector()), Conditioned(affine, 3, conditional_input=y)],
            event_ndims=3,
        )

    def prior_log_prob(self, z):
        return standard_normal_log_prob(z, 3)

    def prior_sample(self, num_samples, temperature=1.0, seed=None):
        shape = tf.concat([tf.reshape(tf.cast(num_samples, tf.int32), [1]), self.latent_shape], 0)
        eps = standard_normal(shape, seed, self.compute_dtype)
        return tf.cast(temperature, eps.dtype) * eps

    def decoder_log_prob(self, y, z, posterior):
        """`log N(y; G(F^-1(z)), sigma2^2 I)`, with its `-D log sigma2` normaliser.

        `F^-1` is the inverse of the posterior's own `Invert(flow)`: TFP's cache
        returns the `w` that produced `z` instead of running the flow again.
        """
        w = posterior.bijectors[0].inverse(z)
        return gaussian_log_prob(y, self.decoder(w), self.log_sigma2, event_ndims=3)

    def decoder_mean(self, z):
        """`G(F^-1(z))` (eq. 16)."""
        return self.decoder(self.flow.forward(z))

    def extra_terms(self, batch_size):
        ones = tf.ones(tf.reshape(batch_size, [1]), self.compute_dtype)
        return {
            "sigma1": tf.exp(tf.cast(self.log_sigma1, ones.dtype)) * ones,
            "sigma2": tf.exp(tf.cast(self.log_sigma2, ones.dtype)) * ones,
        }

    def initialize(self, images):
        """Actnorm data-dependent init of F on `w = sigma1 u + E(y)` of one batch (eager)."""
        y = self.model_space(images, 0)
        u = self._noise(tf.shape(y)[0], 0)
        self.flow.initialize(tf.exp(tf.cast(self.log_sigma1, y.dtype)) * u + self.encoder(y))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder_blocks": self.encoder_blocks,
            "encoder_steps": self.encoder_steps,
            "hidden_units": self.hidden_units,
            "latent_channels": self.latent_channels or 0,  # 0: the dimension kept
            "flow_levels": self.flow_levels,
            "flow_steps": self.flow_steps,
            "flow_hidden_units": self.flow_hidden_units,
            "flow_kernel_size": self.flow_kernel_size,
            "coupling": self.coupling,
            "sigma1": self.sigma1,
            "sigma2": self.sigma2,
            "learn_sigmas": self.learn_sigmas,
            "decoder_tanh": self.decoder_tanh,
            "seed": self.seed,
        }
