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

    Training maximises the ELBO (nats per example; `loss` is it in bits/dim,
    see `loss_from_objective`). As `sigma -> 0`, `z -> E(y)` and
    `-ELBO` tends to regularized GLF's loss with weight `beta/2` on its sum of
    squared errors, plus constants and the entropy term `-log q(z|y)`: GLF is
    the vanishing-noise limit (section 3.4). `beta` is fixed, or learned
    (`learn_beta`, as Dai & Wipf's learned variance, which the paper finds
    ineffective). Reported log-likelihoods are the ELBO (or, with
    `num_importance_samples=K > 1`, the IW bound) of the discrete image,
    `bound - D n log 2`, `likelihood_kind = "elbo"`.

    The auto-encoder's and the flow prior's arguments (`image_shape`,
    `latent_dim`, `filters`, `flow_*`, `autoencoder_*`, `decoder_logit_scale`,
    `num_bits`) are `LatentFlowAutoEncoder`'s, passed on as keyword arguments;
    the encoder has two outputs per latent unit (`q`'s mean and log-scale).

    Args:
      beta: decoder precision (initial value if learned; Table 1 uses 1).
      learn_beta: train beta with the rest.
    """

    likelihood_kind = "elbo"
    terms = ("loss", "log_likelihood", "reconstruction", "kl", "prior_nll", "entropy", "mse")

    encoder_outputs_per_latent = 2

    def __init__(self, image_shape, beta=1.0, learn_beta=False, **kwargs):
        super().__init__(image_shape, **kwargs)
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
            "loss": self.loss_from_objective(elbo),
            "log_likelihood": self.discrete_log_likelihood(elbo),
            "reconstruction": -reconstruction,
            "kl": posterior - prior,  # the single-sample estimate of KL(q || p_flow)
            "prior_nll": -prior,
            # Analytic entropy of q (the paper's "entropy loss" is its negative, up to constants).
            "entropy": tf.reduce_sum(log_scale, -1)
            + 0.5 * self.latent_dim * (1.0 + math.log(2.0 * math.pi)),
            "mse": mse,
        }

    def make_optimizer(self, learning_rate, clipnorm=None, **kwargs):
        """Adam with Keras' epsilon (1e-7) set for the ELBO in nats per example.

        `loss` is the ELBO in bits/dim, so epsilon is divided by
        `nats_per_loss_unit`: the steps are those of Adam on the nats loss.
        """
        epsilon = kwargs.pop("epsilon", 1e-7) / self.nats_per_loss_unit
        return super().make_optimizer(learning_rate, clipnorm, epsilon=epsilon, **kwargs)

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
