"""VAE with a normalizing-flow prior: GLF's stochastic counterpart (GLF, section 3.4)."""

import math

import keras
import tensorflow as tf

from tfflows.models.gaussian import gaussian_log_prob, reparameterized_sample
from tfflows.models.latent_flow import SMALL_NETWORKS, LatentFlowAutoEncoder
from tfflows.models.registry import register

__all__ = ["VAEFlowPrior"]


@register("vae_flow_prior", presets={"small": SMALL_NETWORKS})
@keras.saving.register_keras_serializable(package="tfflows")
class VAEFlowPrior(LatentFlowAutoEncoder):
    """Gaussian VAE whose prior is GLF's latent flow, trained on its ELBO (eq. 3-4).

    On the [0, 1] image `y = (x + u) / 256` (as GLF), with `q(z|y) = N(mu(y),
    sigma(y)^2)` (Table 3's encoder with 2 nz outputs, appendix A), decoder
    `p(y|z) = N(G(z), 1/beta I)` and the flow prior
    `p(z) = N(f(z); 0, I) |det df/dz|`, per example, with one reparameterised
    sample `z ~ q` (eq. 4):

      ELBO(y) = log N(y; G(z), 1/beta I) + log p_flow(z) - log q(z|y)
      -log N(y; G(z), 1/beta I) = beta/2 ||y - G(z)||^2 - D/2 log(beta / 2 pi)

    The loss is `-ELBO` in nats per example. As `sigma -> 0`, `z -> E(y)` and
    `-ELBO` tends to regularized GLF's loss with weight `beta/2` on its sum of
    squared errors, plus constants and the entropy term `-log q(z|y)`: GLF is
    the vanishing-noise limit (section 3.4). `beta` is fixed, or learned
    (`learn_beta`, as Dai & Wipf's learned variance, which the paper finds
    ineffective). Reported log-likelihoods are the ELBO (or, with
    `num_importance_samples=K > 1`, the IW bound) of the discrete image,
    `bound - D n log 2`, `likelihood_kind = "elbo"`.

    Args:
      image_shape: `(H, W, C)`, sides divisible by 4.
      latent_dim: nz (None: 20 for C = 1, else 64).
      filters: widths of the two stride-2 convolutions (Table 3: 64, 128).
      hidden_units: width of the auto-encoder's fully connected layer (1024).
      flow_blocks: coupling blocks of the flow prior (4).
      flow_hidden_units: k (None: 64 for C = 1, else 256).
      flow_hidden_layers: hidden layers per coupling network (2, i.e. 3 layers).
      flow_separate_networks: separate `s` and `t` networks per coupling (the authors' code).
      flow_batch_norm: batch norm in the coupling networks (the authors' code).
      flow_permute_every: "coupling" (Figure 1b) or "block" (the authors' FrEIA
        layout: one permutation per block of two couplings).
      flow_scale_activation: the couplings' log-scale `s = act(h)`: "tanh"
        (default) or "atan" (FrEIA's soft clamp at 2, the authors' code).
      flow_affine_direction: "inverse" computes section 3.1's coupling
        `y_2 = z_2 exp(s(z_1)) + t(z_1)` from the latent z to the noise y, as
        FrEIA does; "forward" (default) computes that form from noise to latent.
      autoencoder_init_stddev: None for Keras' initialisers, or `s` for N(0, s^2)
        auto-encoder kernels (the authors' code: 0.02).
      decoder_logit_scale: images are sigmoid(scale * a) of the decoder's last
        layer `a` (Table 3: 1; the authors' `0.5 tanh(a) + 0.5`: 2).
      autoencoder_dtype: Keras dtype policy of the auto-encoder's hidden layers
        (None: the global one). "mixed_bfloat16" runs its matmuls and convolutions
        in bfloat16 (~1.5x faster steps on CPUs with AMX, e.g. Sapphire Rapids;
        bf16 tensor cores on GPUs); weights, the latent, the logits, the flow and
        the loss stay float32.
      beta: decoder precision (initial value if learned; Table 1 uses 1).
      learn_beta: train beta with the rest.
      num_bits: bit depth the model sees.
    """

    likelihood_kind = "elbo"
    terms = ("loss", "log_likelihood", "reconstruction", "kl", "prior_nll", "entropy", "mse")

    def __init__(
        self,
        image_shape,
        latent_dim=None,
        filters=(64, 128),
        hidden_units=1024,
        flow_blocks=4,
        flow_hidden_units=None,
        flow_hidden_layers=2,
        flow_separate_networks=True,
        flow_batch_norm=True,
        flow_permute_every="coupling",
        flow_scale_activation="tanh",
        flow_affine_direction="forward",
        autoencoder_init_stddev=None,
        decoder_logit_scale=1.0,
        autoencoder_dtype=None,
        beta=1.0,
        learn_beta=False,
        num_bits=8,
        **kwargs,
    ):
        super().__init__(
            image_shape,
            latent_dim=latent_dim,
            filters=filters,
            hidden_units=hidden_units,
            flow_blocks=flow_blocks,
            flow_hidden_units=flow_hidden_units,
            flow_hidden_layers=flow_hidden_layers,
            flow_separate_networks=flow_separate_networks,
            flow_batch_norm=flow_batch_norm,
            flow_permute_every=flow_permute_every,
            flow_scale_activation=flow_scale_activation,
            flow_affine_direction=flow_affine_direction,
            autoencoder_init_stddev=autoencoder_init_stddev,
            decoder_logit_scale=decoder_logit_scale,
            autoencoder_dtype=autoencoder_dtype,
            encoder_outputs_per_latent=2,
            num_bits=num_bits,
            **kwargs,
        )
        self.beta = float(beta)
        self.learn_beta = bool(learn_beta)
        self.log_beta = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(self.beta)),
            trainable=self.learn_beta,
            name="log_beta",
        )
        self.built = True  # every weight exists now; nothing waits for an input shape

    def posterior(self, y, training=False):
        """Mean and log standard deviation of `q(z | y)`."""
        mean, log_scale = tf.split(self.encoder(y, training=training), 2, axis=-1)
        return mean, log_scale

    def _reconstruction_log_prob(self, y, z, training=False):
        mean = tf.sigmoid(self.decoder(z, training=training))
        log_prob = gaussian_log_prob(y, mean, -0.5 * self.log_beta, event_ndims=3)
        return log_prob, tf.reduce_mean(tf.square(y - mean), axis=[1, 2, 3])

    def per_example_terms(self, images, training=False, seed=None):
        y = self.unit_images(images, seed=seed)
        mean, log_scale = self.posterior(y, training=training)
        z = reparameterized_sample(mean, log_scale, self.noise_seeds(images, seed))
        reconstruction, mse = self._reconstruction_log_prob(y, z, training=training)
        prior = self.flow_log_prob(z, training=training)
        posterior = gaussian_log_prob(z, mean, log_scale, 1)
        elbo = reconstruction + prior - posterior  # eq. (4), one sample
        return {
            "loss": -elbo,
            "log_likelihood": self.discrete_log_likelihood(elbo),
            "reconstruction": -reconstruction,
            "kl": posterior - prior,  # the single-sample estimate of KL(q || p_flow)
            "prior_nll": -prior,
            # Analytic entropy of q (the paper's "entropy loss" is its negative, up to constants).
            "entropy": tf.reduce_sum(log_scale, -1)
            + 0.5 * self.latent_dim * (1.0 + math.log(2.0 * math.pi)),
            "mse": mse,
        }

    def bound_inputs(self, images, seed=None):
        """The decoder's space: dequantized images in [0, 1]."""
        return self.unit_images(images, seed=seed)

    def importance_log_weights(self, y, seeds=None):
        """`log p(y | z) + log p_flow(z) - log q(z | y)` per row (eq. 4), `z ~ q(z | y)`."""
        mean, log_scale = self.posterior(y)
        z = reparameterized_sample(mean, log_scale, seeds)
        return (
            self._reconstruction_log_prob(y, z)[0]
            + self.flow_log_prob(z)
            - gaussian_log_prob(z, mean, log_scale, 1)
        )

    def encode(self, images):
        """uint8 images to the posterior mean of z (dequantization noise seed 0)."""
        return self.posterior(self.unit_images(images, seed=0))[0]

    def get_config(self):
        return {
            **super().get_config(),
            "beta": self.beta,
            "learn_beta": self.learn_beta,
        }
