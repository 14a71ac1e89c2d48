"""VAE with a normalizing-flow decoder (ICLR 2020 submission; paper 002 of `shared/papers`).

A VAE whose decoder is a per-pixel Gaussian (eq. 3), with a RealNVP flow prior
on z ("Prior distribution") and an additive Glow layer in pixel space on top
("Normalizing flow layer"). With `f` the Glow layer, mapping the image `y` to
the VAE's pixel space `x = f(y)` (so sampling is `y = f^-1(x)`), per example:

    p(y | z) = N(f(y); g_mu(z), diag g_sigma(z)^2) |det df/dy|
    p(z)     = N(h(z); 0, I) |det dh/dz|                 (RealNVP prior h)
    ELBO(y)  = E_q[log p(y | z)] - E_q[log q(z | y) - log p(z)],  q = N(mu(y), sigma(y)^2)

with one reparameterised sample for both expectations (the KL to a flow prior
has no closed form). Training has two phases ("Training"):
  1. the VAE and its prior on the ELBO without the Glow layer (`f` = identity);
  2. the Glow layer alone on `E_q[log p(y | z)]`, the VAE and prior fixed, which
     maximises the same ELBO since its KL term no longer changes.
The Glow layer starts as the identity map (identity 1x1 convolutions, zero
additive couplings, unit actnorms without data-dependent initialisation), so
phase 2 starts from phase 1's density. `set_phase(2)` switches between fits;
`training_callbacks(epochs)` switches inside one `fit` after a fraction
`vae_fraction` of the epochs (the paper: 1,000 + 1,000, i.e. 0.5), which is how
the trainer runs it. `schedule="joint"` trains everything in one phase on the
full ELBO instead, the alternative the paper finds gives poorer images
("Training"): the model is in phase 2 from the start, with no stop-gradient.
The Glow layer trains at `glow_learning_rate_scale` times the learning rate
(a `SplitAdam` group; 0.1 by default): its density
`N(f(y); g_mu, g_sigma)` has per-pixel scales down to the dequantization
noise's (~0.001 on MNIST's background), so an Adam step of 1e-3 in its 1x1
convolutions moves pixels by a scale or more. On MNIST at Adam 1e-3 for
everything, phase 2's first minute averaged 19.5 training bits/dim against
phase 1's final 3.10, and after its best, 2.95, it drifted up to 3.14 over
the next 13 minutes. Phase 2 starts its optimizer afresh either way: between
two fits by compiling a new one, inside one `fit` by `GlowPhase` restarting the
optimizer's step count (the Glow layer's Adam moments are still zero then, so
this is a fresh Adam for it; with the step count of phase 1 its bias
correction would make the first updates up to ~3x the learning rate).

`likelihood_kind = "elbo"`: `log_prob` is the ELBO of the current phase's
model (or the IW bound with `num_importance_samples=K > 1`), `bound - D n log 2`
for the discrete image.

Sampling ("Sampling"): `z ~ p(z)`, `x = g_mu(z) + T g_sigma(z) eps`,
`y = f^-1(x)`: the temperature `T` acts in the Glow layer's base, not on the
prior (the paper finds T = 0.5 best for FID); `T = 0` gives `f^-1(g_mu(z))`.

Choices the paper leaves open or this library fixes, said here:
  - encoder and decoder are the `VAE` baseline's convolutional networks, not
    Dai & Wipf's ResNet; the decoder has 2C outputs (mean, log-scale per pixel),
    or C with `decoder_variance="isotropic"` (one learned scale for every pixel:
    the alternative section 3.1 finds worse, for measuring that claim);
  - the per-pixel log-scale is bounded below, softly (`m + softplus(s - m)`), by
    `m`, the log of the dequantization noise's standard deviation
    `2^-n / sqrt(12)`: finer scales describe the noise only, and the floor
    keeps the background pixels of MNIST from driving it to -inf;
  - the Glow layer is one level of K steps without split; images of one
    channel (MNIST) are squeezed to 4 channels around it, since a coupling
    needs two (`glow_squeeze`).
"""

import math

import keras
import tensorflow as tf

from tfflows.layers import MultiScaleFlow, RealNVP, standard_normal
from tfflows.models.base import GenerativeModel
from tfflows.models.gaussian import gaussian_log_prob, reparameterized_sample
from tfflows.models.phases import (
    PhaseSwitch,
    check_fraction,
    check_phase,
    forget_traced_steps,
    switch_epoch,
)
from tfflows.models.registry import register
from tfflows.models.vae import conv_decoder, conv_encoder
from tfflows.optimizers import SplitAdam, check_learning_rate_scale

__all__ = ["GlowPhase", "VAEFlowDecoder"]


class GlowPhase(PhaseSwitch):
    """The `PhaseSwitch` of a `VAEFlowDecoder`, whose phase 2 trains the Glow layer.

    The name `training_callbacks` has always returned; the switch itself
    (phase 2 from epoch `start_epoch`, the optimizer's step count restarted
    there) is `PhaseSwitch`'s.
    """


_SCHEDULES = ("two_phases", "joint")

_SMALL = dict(
    latent_dim=16,
    filters=(16, 32),
    hidden_units=128,
    prior_blocks=2,
    prior_hidden_units=64,
    glow_steps=4,
    glow_hidden_units=32,
)


@register("vae_flow_decoder", presets={"small": _SMALL})
@keras.saving.register_keras_serializable(package="tfflows")
class VAEFlowDecoder(GenerativeModel):
    """VAE with a per-pixel Gaussian decoder, a RealNVP prior and an additive Glow layer.

    Args:
      image_shape: `(H, W, C)`.
      latent_dim: size of z.
      filters: widths of the encoder's stride-2 convolutions (mirrored in the decoder).
      hidden_units: width of the encoder's and decoder's dense layers.
      prior_blocks: blocks of two couplings in the RealNVP prior (the paper: 16 layers, 8).
      prior_hidden_units: width of the prior's coupling networks (the paper: 1024).
      prior_hidden_layers: hidden layers per coupling network (the paper: 2).
      glow_steps: K, steps of the Glow layer (the paper: 32).
      glow_hidden_units: width of the Glow layer's coupling networks (Glow: 512).
      glow_squeeze: squeeze around the Glow layer (None: only for 1-channel images).
      decoder_variance: "diagonal" (a scale per pixel, the paper's section 3.1) or
        "isotropic" (one learned scale for all pixels).
      phase: 1 (train the VAE and prior) or 2 (train the Glow layer on the fixed VAE).
      vae_fraction: fraction of the epochs in phase 1 (`training_callbacks`).
      schedule: "two_phases" (the paper's) or "joint" (every weight on the full
        ELBO in one phase; `phase` and `vae_fraction` then play no part).
      glow_learning_rate_scale: the Glow layer's learning rate as a multiple of
        the VAE's (`make_optimizer`; the paper trains both at 1e-4).
      num_bits: bit depth the model sees.
    """

    likelihood_kind = "elbo"
    terms = ("loss", "log_likelihood", "reconstruction", "kl", "glow_log_det", "decoder_scale")

    def __init__(
        self,
        image_shape,
        latent_dim=64,
        filters=(32, 64),
        hidden_units=256,
        prior_blocks=8,
        prior_hidden_units=1024,
        prior_hidden_layers=2,
        glow_steps=32,
        glow_hidden_units=512,
        glow_squeeze=None,
        decoder_variance="diagonal",
        phase=1,
        vae_fraction=0.5,
        schedule="two_phases",
        glow_learning_rate_scale=0.1,
        num_bits=8,
        **kwargs,
    ):
        super().__init__(image_shape, num_bits=num_bits, **kwargs)
        self.latent_dim = int(latent_dim)
        self.latent_shape = (self.latent_dim,)
        self.filters = tuple(int(f) for f in filters)
        self.hidden_units = int(hidden_units)
        self.prior_blocks, self.prior_hidden_units = int(prior_blocks), int(prior_hidden_units)
        self.prior_hidden_layers = int(prior_hidden_layers)
        self.glow_steps, self.glow_hidden_units = int(glow_steps), int(glow_hidden_units)
        channels = self.image_shape[-1]
        self.glow_squeeze = channels < 2 if glow_squeeze is None else bool(glow_squeeze)
        self.vae_fraction = check_fraction(vae_fraction, "vae_fraction")
        if schedule not in _SCHEDULES:
            raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}.")
        self.schedule = schedule
        self.glow_learning_rate_scale = check_learning_rate_scale(
            glow_learning_rate_scale, "glow_learning_rate_scale"
        )
        dtype = self.dtype_policy
        nets = dict(filters=self.filters, hidden_units=self.hidden_units, dtype=dtype)
        self.encoder = conv_encoder(self.image_shape, 2 * self.latent_dim, **nets)
        if decoder_variance not in ("diagonal", "isotropic"):
            raise ValueError(
                f"decoder_variance must be 'diagonal' or 'isotropic', got {decoder_variance!r}."
            )
        self.decoder_variance = decoder_variance
        outputs = 2 * channels if decoder_variance == "diagonal" else channels
        decoder_shape = (*self.image_shape[:2], outputs)  # means (and log-scales) per pixel
        self.decoder = conv_decoder(decoder_shape, self.latent_dim, **nets)
        self.decoder_raw_log_scale = None  # the isotropic decoder's raw log-scale
        if decoder_variance == "isotropic":
            self.decoder_raw_log_scale = self.add_weight(
                shape=(), initializer="zeros", name="decoder_raw_log_scale"
            )
        self.prior = RealNVP(
            self.latent_dim,
            num_blocks=self.prior_blocks,
            hidden_units=self.prior_hidden_units,
            num_hidden_layers=self.prior_hidden_layers,
            name="prior",
            dtype=dtype,
        )
        self.glow = MultiScaleFlow(
            self.image_shape,
            num_levels=1,
            num_steps=self.glow_steps,
            hidden_units=self.glow_hidden_units,
            coupling="additive",
            squeeze=self.glow_squeeze,
            split=False,
            conv1x1_init="identity",
            name="glow",
            dtype=dtype,
        )
        self.min_log_scale = -self.num_bits * math.log(2.0) - 0.5 * math.log(12.0)
        # g_mu(z) = decoder mean + offset, the offset a per-pixel image (`initialize`).
        self.decoder_offset = self.add_weight(
            shape=self.image_shape, initializer="zeros", name="decoder_offset"
        )
        self.phase = None
        self.set_phase(2 if schedule == "joint" else phase)
        self.built = True  # every weight exists now; nothing waits for an input shape

    # -- the two phases ------------------------------------------------------------------------

    def set_phase(self, phase):
        """Phase 1 trains the VAE and prior without the Glow layer; phase 2 the Glow layer alone.

        Traced steps depend on the phase, so they are dropped here (`fit`,
        `evaluate` and the XLA loss retrace; a callback switching inside `fit`
        also remakes the train function, as `GlowPhase` does). A joint model
        has phase 2 only.
        """
        phase = check_phase(phase)
        if self.schedule == "joint" and phase != 2:
            raise ValueError(f"A schedule='joint' model has phase 2 only, got phase={phase!r}.")
        self.phase = phase
        forget_traced_steps(self)

    @property
    def phase1_fraction(self):
        """`vae_fraction` (0 for a joint model), as every two-phase model has (`models.phases`)."""
        return 0.0 if self.schedule == "joint" else self.vae_fraction

    def optimized_variables(self):
        """Phase 1: the encoder, decoder and prior; phase 2: the Glow layer; joint: all."""
        scale = [] if self.decoder_raw_log_scale is None else [self.decoder_raw_log_scale]
        vae = (
            [*self.encoder.trainable_variables, *self.decoder.trainable_variables]
            + list(self.prior.trainable_variables)
            + scale
        )
        if self.schedule == "joint":
            return vae + list(self.glow.trainable_variables)
        return self.glow.trainable_variables if self.phase == 2 else vae

    def make_optimizer(self, learning_rate, clipnorm=None, **kwargs):
        """Adam; the Glow layer's variables at `glow_learning_rate_scale` times its rate.

        One optimizer for both phases, so the trainer's schedule (e.g. halving)
        applies to both; `kwargs` go to the Keras optimizer, as in the base class.
        """
        optimizer = SplitAdam(
            learning_rate,
            group_epsilon=1e-7,  # Keras' Adam's default, the ungrouped variables' epsilon
            group_learning_rate_scale=self.glow_learning_rate_scale,
            clipnorm=clipnorm,
            **kwargs,
        )
        return optimizer.set_group(self.glow.trainable_variables)

    def training_callbacks(self, epochs):
        """`GlowPhase` after `ceil(vae_fraction * epochs)` epochs, for one `fit` of both phases."""
        if self.schedule == "joint":
            return []
        return [GlowPhase(switch_epoch(self.vae_fraction, epochs))]

    # -- the bound -----------------------------------------------------------------------------

    def posterior(self, y):
        """Mean and log standard deviation of `q(z | y)`."""
        return tuple(tf.split(self.encoder(y), 2, axis=-1))

    def pixel_distribution(self, z):
        """`g_mu(z)` and `log g_sigma(z)`, the per-pixel Gaussian under the Glow layer."""
        if self.decoder_variance == "diagonal":
            mean, raw = tf.split(self.decoder(z), 2, axis=-1)
        else:
            mean = self.decoder(z)
            raw = tf.fill(tf.shape(mean), tf.cast(self.decoder_raw_log_scale, mean.dtype))
        mean = mean + tf.cast(self.decoder_offset, mean.dtype)
        # A soft floor: a hard one (tf.maximum) would leave pixels below it without gradient.
        floor = tf.constant(self.min_log_scale, raw.dtype)
        return mean, floor + tf.nn.softplus(raw - floor)

    def initialize(self, images):
        """Data-dependent initialisation from one batch (eager, once), as the `VAE` baseline's.

        `g_mu` starts at the batch's mean image (the decoder's per-pixel offset)
        and `g_sigma` at the root-mean-square error of those initial
        reconstructions (the log-scale outputs' bias): a calibrated decoder.
        A new decoder's scales of ~1 on pixels in [-0.5, 0.5] made the
        reconstruction term too weak against the KL: after 2 epochs on digits
        the posterior had collapsed (a mean KL estimate of -0.03 nats) and
        samples were noise.
        """
        y = self.model_space(images, seed=0)
        self.decoder_offset.assign(tf.cast(tf.reduce_mean(y, axis=0), self.decoder_offset.dtype))
        mean = self.pixel_distribution(self.posterior(y)[0])[0]
        error = tf.cast(y - tf.cast(mean, y.dtype), tf.float32)
        log_rms = 0.5 * tf.math.log(tf.reduce_mean(tf.square(error)))
        if self.decoder_variance == "isotropic":
            self.decoder_raw_log_scale.assign(tf.cast(log_rms, self.decoder_raw_log_scale.dtype))
            return
        output = self.decoder.layers[-1]
        channels = self.image_shape[-1]
        bias = tf.concat([output.bias[:channels], tf.fill([channels], log_rms)], axis=0)
        output.bias.assign(tf.cast(bias, output.bias.dtype))

    def log_weights(self, y, seed=None):
        """Per example: `log p(y|z) + log p(z) - log q(z|y)` and its terms, one z each."""
        mean, log_scale = self.posterior(y)
        z = reparameterized_sample(mean, log_scale, seed)
        kl = gaussian_log_prob(z, mean, log_scale, 1) - self.prior.log_prob(z)
        pixel_mean, pixel_log_scale = self.pixel_distribution(z)
        if self.phase == 1:
            x, glow_log_det = y, tf.zeros_like(kl)
        else:
            x, glow_log_det = self.glow.inverse_and_log_det(y)
        if self.phase == 2 and self.schedule == "two_phases":
            # Phase 2 trains the Glow layer on the fixed VAE ("Training").
            kl, pixel_mean, pixel_log_scale = (
                tf.stop_gradient(t) for t in (kl, pixel_mean, pixel_log_scale)
            )
        reconstruction = gaussian_log_prob(x, pixel_mean, pixel_log_scale, 3) + glow_log_det
        terms = {
            "reconstruction": -reconstruction,
            "kl": kl,
            "glow_log_det": glow_log_det,
            "decoder_scale": tf.reduce_mean(tf.exp(pixel_log_scale), axis=[1, 2, 3]),
        }
        return reconstruction - kl, terms

    def per_example_terms(self, images, training=False, seed=None):
        y = self.model_space(images, seed=seed)
        log_weight, terms = self.log_weights(y, self.noise_seeds(images, seed))
        log_likelihood = self.discrete_log_likelihood(log_weight)
        terms["log_likelihood"] = log_likelihood
        terms["loss"] = self.loss_from_objective(log_likelihood)
        return {name: terms[name] for name in self.terms}

    def importance_log_weights(self, y, seeds=None):
        """`log p(y | z) + log p(z) - log q(z | y)` per row, `z ~ q(z | y)` (current phase)."""
        return self.log_weights(y, seeds)[0]

    # -- latents and sampling ------------------------------------------------------------------

    def _to_images(self, x):
        y = self.glow.forward(x) if self.phase == 2 else x
        return self.dequantize.to_unit_interval(y)

    def encode(self, images):
        """uint8 images to the posterior mean of z (dequantization noise seed 0)."""
        return self.posterior(self.model_space(images, seed=0))[0]

    def _decode(self, latents):
        """`f^-1(g_mu(z))` as float32 images in [0, 1] (phase 1: `g_mu(z)`)."""
        return self._to_images(self.pixel_distribution(latents)[0])

    def sample(self, num_samples, temperature=1.0, seed=None):
        """`z ~ p(z)`, `x = g_mu + T g_sigma eps`, images `f^-1(x)` in [0, 1]."""
        return self.sample_pair(num_samples, temperature, seed)[1]

    def sample_pair(self, num_samples, temperature=1.0, seed=None):
        """Figure 4's pair from the same `z ~ p(z)`: the VAE's image and the model's sample.

        Returns `(g_mu(z), f^-1(g_mu(z) + T g_sigma(z) eps))` as float32 images
        in [0, 1]: what the underlying VAE shows for `z` (its decoder's mean)
        and the same latent through the Glow layer (`sample`; in phase 1,
        before the Glow layer trains, `g_mu + T g_sigma eps` itself).
        """
        seed = None if seed is None else tf.cast(seed, tf.int64)
        z = self.prior.sample(num_samples, seed=seed)
        mean, log_scale = self.pixel_distribution(z)
        eps = standard_normal(tf.shape(mean), None if seed is None else seed + 1, mean.dtype)
        x = mean + tf.cast(temperature, mean.dtype) * tf.exp(log_scale) * eps
        vae_image = tf.cast(self.dequantize.to_unit_interval(mean), tf.float32)
        return vae_image, self._to_images(x)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "filters": self.filters,
            "hidden_units": self.hidden_units,
            "prior_blocks": self.prior_blocks,
            "prior_hidden_units": self.prior_hidden_units,
            "prior_hidden_layers": self.prior_hidden_layers,
            "glow_steps": self.glow_steps,
            "glow_hidden_units": self.glow_hidden_units,
            "glow_squeeze": self.glow_squeeze,
            "decoder_variance": self.decoder_variance,
            "phase": self.phase,
            "vae_fraction": self.vae_fraction,
            "schedule": self.schedule,
            "glow_learning_rate_scale": self.glow_learning_rate_scale,
        }
