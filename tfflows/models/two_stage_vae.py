"""Dai & Wipf's two-stage VAE (ICLR 2019, "Diagnosing and enhancing VAE models", section 4).

The baseline of Table 1 of paper 002 of `shared/papers` (the VAE with a flow
decoder), which compares on Fashion-MNIST a RealNVP prior with this second
stage on the same first-stage VAE, whose decoder is `N(x; g_mu(z), gamma^2 I)`
with gamma learned. Per example, on the model-space image `y` (D dimensions):

  stage 1: q1(z|y) = N(mu(y), sigma(y)^2),  p(y|z) = N(y; g_mu(z), gamma^2 I),  p(z) = N(0, I)
  stage 2: q2(u|z) = N(nu(z), tau(z)^2),    p(z|u) = N(z; h_mu(u), gamma_z^2 I), p(u) = N(0, I)

with u of z's dimension. Stage 2's marginal `p2(z) = E_p(u)[p(z|u)]` replaces
N(0, I) as the prior: with gamma learned, stage 1 finds the data manifold but
its aggregate posterior need not match N(0, I) (Dai & Wipf, section 3); stage
2 learns it (section 4). Two phases, as `VAEFlowDecoder`'s (`set_phase`, or
`training_callbacks(epochs)`: a `PhaseSwitch` after `stage1_fraction` of the
epochs): phase 1 trains stage 1, prior N(0, I); phase 2 trains stage 2 alone
(`optimized_variables`) on `z ~ q1(z|y)` of the fixed stage 1, as Dai & Wipf.

`likelihood_kind = "elbo"`; `log_prob` is the current phase's bound, minus
`D n log 2` for the discrete image. Phase 1: the VAE's ELBO. Phase 2: the
ELBO of the two-stage model `p(y) = E_p(u) E_p(z|u) [p(y|z)]` with the
proposal `q1(z|y) q2(u|z)`,

  log p(y) >= E_q1(z|y)[log p(y|z) + ELBO_2(z) - log q1(z|y)],
  ELBO_2(z) = E_q2(u|z)[log p(z|u) + log p(u) - log q2(u|z)] <= log p2(z),

one z and one u per example: `importance_log_weights` is that log-weight and
`num_importance_samples=K` its IW bound (Burda et al.) over the pair (z, u).
The training estimate has the same expectation with less noise: KL(q2 || p(u))
is analytic, and the stage-1 term is the analytic KL(q1 || N(0, I)) minus stage
2's gain over N(0, I) at the sampled z, `ELBO_2(z) - log N(z; 0, I)`.

Sampling (phase 2), as Dai & Wipf's code: `u ~ N(0, T^2 I)`, `z = h_mu(u) +
T gamma_z eps`, the image `g_mu(z)`. The gamma_z noise is part of `p2(z)`
(whose bound is reported) and is smoothed by `g_mu`; gamma_x's per-pixel noise
is left out, as the `VAE` samples (Dai & Wipf sample the decoder mean too).
T = 0 gives `g_mu(h_mu(0))`. Phase 1 samples the VAE's `z ~ N(0, T^2 I)`.

Choices made here:
  - stage 1 is the `VAE` baseline itself (the class is its subclass): its
    networks and its calibrated `initialize`; presets give `vae_flow_decoder`'s
    stage-1 architecture, so Table 1 compares the priors alone;
  - stage 2's networks are Dai & Wipf's form (ReLU dense layers, the input
    concatenated to the last one) at 2 x 256 by default instead of 3 x 1024:
    at latent_dim 64 that is 0.23M weights against their 4.5M, below stage 1's
    1.7M on 28 x 28 images, for a 64-dimensional density of ~60k points
    (preset "dai_wipf": 3 x 1024);
  - their output layers start at zero and gamma_z at 1, so stage 2 starts as
    `p2(z) = N(0, I)` with the exact posterior `q2 = p(u)`: phase 2 starts
    from phase 1's bound, example by example (and learns no slower: 30 epochs
    on the digits latents of a 15-epoch "small" stage 1 ended at a stage-2
    NLL of 22.22 nats from zero output layers, 22.44 from Glorot ones).
"""

import keras
import tensorflow as tf

from tfflows.layers import standard_normal
from tfflows.models.base import input_dtype
from tfflows.models.gaussian import (
    gaussian_log_prob,
    kl_to_standard_normal,
    reparameterized_sample,
    standard_normal_log_prob,
)
from tfflows.models.phases import (
    PhaseSwitch,
    check_fraction,
    check_phase,
    forget_traced_steps,
    switch_epoch,
)
from tfflows.models.registry import register
from tfflows.models.vae import VAE

__all__ = ["TwoStageVAE", "skip_dense_network"]

#: XORed into a row's seed for its u: the first word's low bit, which no stream seed flips.
_STAGE2_SEED_FLIP = (1, 0)


def skip_dense_network(input_dim, outputs, hidden_units, hidden_layers, name, dtype=None):
    """Dai & Wipf's second-stage network: ReLU dense layers, the input concatenated to the last.

    The output layer starts at zero (its kernel and bias).
    """
    inputs = keras.Input((input_dim,), dtype=input_dtype(dtype))
    h = inputs
    for _ in range(hidden_layers):
        h = keras.layers.Dense(hidden_units, activation="relu", dtype=dtype)(h)
    h = keras.layers.Concatenate(dtype=dtype)([inputs, h])
    out = keras.layers.Dense(outputs, kernel_initializer="zeros", dtype=dtype)(h)
    return keras.Model(inputs, out, name=name)


def _stage2_seeds(seeds):
    if seeds is None:
        return None
    flip = tf.constant(_STAGE2_SEED_FLIP, tf.int64)
    return tf.bitwise.bitwise_xor(tf.convert_to_tensor(seeds, tf.int64), flip)


_STAGE1_SMALL = dict(latent_dim=16, filters=(16, 32), hidden_units=128)


@register(
    "two_stage_vae",
    presets={
        "small": dict(_STAGE1_SMALL, stage2_hidden_units=64),
        "dai_wipf": dict(stage2_hidden_units=1024, stage2_hidden_layers=3),
    },
)
@keras.saving.register_keras_serializable(package="tfflows")
class TwoStageVAE(VAE):
    """Dai & Wipf's two-stage VAE: the `VAE` baseline, then a dense VAE on its latents.

    Args:
      image_shape: `(H, W, C)`.
      latent_dim: size of z, and of stage 2's u.
      filters: widths of stage 1's stride-2 convolutions (mirrored in its decoder).
      hidden_units: width of stage 1's dense layers.
      decoder_scale: gamma, stage 1's initial (or fixed) decoder standard
        deviation; None (default): set by `initialize` from the data (`VAE`).
      learn_decoder_scale: train gamma (Dai & Wipf: yes).
      stage2_hidden_units: width of stage 2's hidden layers (Dai & Wipf: 1024).
      stage2_hidden_layers: hidden layers of stage 2's encoder and decoder (Dai & Wipf: 3).
      phase: 1 (train stage 1) or 2 (train stage 2 on the fixed stage 1).
      stage1_fraction: fraction of the epochs in phase 1 (`training_callbacks`).
      num_bits: bit depth the model sees.
    """

    # Phase 1 logs stage 2's terms as 0; in phase 2 "kl" is E_q1[log q1(z|y) - ELBO_2(z)].
    terms = (*VAE.terms, "stage2_kl", "stage2_reconstruction", "stage2_decoder_scale")

    def __init__(
        self,
        image_shape,
        latent_dim=64,
        filters=(32, 64),
        hidden_units=256,
        decoder_scale=None,
        learn_decoder_scale=True,
        stage2_hidden_units=256,
        stage2_hidden_layers=2,
        phase=1,
        stage1_fraction=0.5,
        num_bits=8,
        **kwargs,
    ):
        phase = check_phase(phase)
        stage1_fraction = check_fraction(stage1_fraction, "stage1_fraction")
        super().__init__(
            image_shape,
            latent_dim=latent_dim,
            filters=filters,
            hidden_units=hidden_units,
            decoder_scale=decoder_scale,
            learn_decoder_scale=learn_decoder_scale,
            num_bits=num_bits,
            **kwargs,
        )
        self.stage2_hidden_units = int(stage2_hidden_units)
        self.stage2_hidden_layers = int(stage2_hidden_layers)
        self.stage1_fraction = stage1_fraction
        nets = dict(
            hidden_units=self.stage2_hidden_units,
            hidden_layers=self.stage2_hidden_layers,
            dtype=self.dtype_policy,
        )
        d = self.latent_dim
        self.stage2_encoder = skip_dense_network(d, 2 * d, name="stage2_encoder", **nets)
        self.stage2_decoder = skip_dense_network(d, d, name="stage2_decoder", **nets)
        # log gamma_z: gamma_z = 1 is the spread of z under stage 1's prior N(0, I).
        self.log_stage2_scale = self.add_weight(
            shape=(), initializer="zeros", name="log_stage2_scale"
        )
        self.set_phase(phase)
        self.built = True  # every weight exists now; nothing waits for an input shape

    # -- the two phases ------------------------------------------------------------------------

    def set_phase(self, phase):
        """Phase 1 trains stage 1 (prior N(0, I)); phase 2 stage 2 on the fixed stage 1."""
        self.phase = check_phase(phase)
        forget_traced_steps(self)

    def stage2_variables(self):
        """Stage 2's trainable variables: its encoder, its decoder and log gamma_z."""
        return [
            *self.stage2_encoder.trainable_variables,
            *self.stage2_decoder.trainable_variables,
            self.log_stage2_scale,
        ]

    def optimized_variables(self):
        """Phase 1: stage 1's variables (the `VAE`'s); phase 2: `stage2_variables`."""
        stage2 = self.stage2_variables()
        if self.phase == 2:
            return stage2
        return [v for v in self.trainable_variables if all(v is not w for w in stage2)]

    @property
    def phase1_fraction(self):
        """`stage1_fraction`, under the name every two-phase model has (`models.phases`)."""
        return self.stage1_fraction

    def training_callbacks(self, epochs):
        """A `PhaseSwitch` after `ceil(stage1_fraction * epochs)` epochs (one `fit`, two phases)."""
        return [PhaseSwitch(switch_epoch(self.stage1_fraction, epochs))]

    # -- stage 2 -------------------------------------------------------------------------------

    def stage2_posterior(self, z):
        """Mean and log standard deviation of `q2(u | z)`."""
        return tuple(tf.split(tf.cast(self.stage2_encoder(z), z.dtype), 2, axis=-1))

    def stage2_decoder_mean(self, u):
        """`h_mu(u)`, the mean of `p(z | u)`."""
        return tf.cast(self.stage2_decoder(u), u.dtype)

    def stage2_terms(self, z, seeds=None):
        """At one `u ~ q2(u | z)`: `log p(z | u)`, `KL(q2(u | z) || N(0, I))` (analytic) and
        `log p(u) - log q2(u | z)`.

        `seeds`: None or z's per-row seeds, from which u's are derived (`_STAGE2_SEED_FLIP`).
        """
        mean, log_scale = self.stage2_posterior(z)
        u = reparameterized_sample(mean, log_scale, _stage2_seeds(seeds))
        log_p = gaussian_log_prob(z, self.stage2_decoder_mean(u), self.log_stage2_scale, 1)
        log_ratio = standard_normal_log_prob(u, 1) - gaussian_log_prob(u, mean, log_scale, 1)
        return log_p, kl_to_standard_normal(mean, log_scale), log_ratio

    # -- the bound -----------------------------------------------------------------------------

    def per_example_terms(self, images, training=False, seed=None):
        y = self.model_space(images, seed=seed)
        seeds = self.noise_seeds(images, seed)
        mean, log_scale = self.posterior(y)
        z = reparameterized_sample(mean, log_scale, seeds)
        reconstruction = self._reconstruction_log_prob(y, z)
        kl = kl_to_standard_normal(mean, log_scale)
        stage2_nll = stage2_kl = tf.zeros_like(kl)  # phase 1: no stage 2
        if self.phase == 2:
            stage2_log_p, stage2_kl, _ = self.stage2_terms(z, seeds)
            stage2_nll = -stage2_log_p
            # E_q1[log q1 - ELBO_2]: KL(q1 || N(0, I)) less stage 2's gain over N(0, I).
            kl = kl - (stage2_log_p - stage2_kl - standard_normal_log_prob(z, 1))
        log_likelihood = self.discrete_log_likelihood(reconstruction - kl)
        ones = tf.ones_like(kl)
        return {
            "loss": self.loss_from_objective(log_likelihood),
            "log_likelihood": log_likelihood,
            "kl": kl,
            "reconstruction": -reconstruction,
            "decoder_scale": tf.exp(self.log_decoder_scale) * ones,
            "stage2_kl": stage2_kl,
            "stage2_reconstruction": stage2_nll,
            "stage2_decoder_scale": tf.exp(self.log_stage2_scale) * ones,
        }

    def importance_log_weights(self, y, seeds=None):
        """Per row, one `z ~ q1(z|y)` and one `u ~ q2(u|z)` (phase 1: the `VAE`'s weight):

        `log p(y|z) + log p(z|u) + log p(u) - log q2(u|z) - log q1(z|y)`.
        """
        if self.phase == 1:
            return super().importance_log_weights(y, seeds)
        mean, log_scale = self.posterior(y)
        z = reparameterized_sample(mean, log_scale, seeds)
        log_p_z, _, log_u_ratio = self.stage2_terms(z, seeds)
        log_q_z = gaussian_log_prob(z, mean, log_scale, 1)
        return self._reconstruction_log_prob(y, z) + log_p_z + log_u_ratio - log_q_z

    # -- sampling ------------------------------------------------------------------------------

    def sample(self, num_samples, temperature=1.0, seed=None):
        """Phase 2: `u ~ N(0, T^2 I)`, `z = h_mu(u) + T gamma_z eps`, images `g_mu(z)` in [0, 1]."""
        if self.phase == 1:
            return super().sample(num_samples, temperature, seed)
        dtype = self.log_stage2_scale.dtype
        shape = tf.stack([tf.cast(num_samples, tf.int32), self.latent_dim])
        temperature = tf.cast(temperature, dtype)
        seed = None if seed is None else tf.cast(seed, tf.int64)
        u = temperature * standard_normal(shape, seed, dtype)
        eps = standard_normal(shape, None if seed is None else seed + 1, dtype)
        z = self.stage2_decoder_mean(u) + temperature * tf.exp(self.log_stage2_scale) * eps
        return self._decode(z)

    def get_config(self):
        return {
            **super().get_config(),
            "stage2_hidden_units": self.stage2_hidden_units,
            "stage2_hidden_layers": self.stage2_hidden_layers,
            "phase": self.phase,
            "stage1_fraction": self.stage1_fraction,
        }
