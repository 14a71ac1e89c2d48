"""Generative Latent Flow (Xiao, Yan & Amit, 2019) and its regularized variant."""

import math

import keras
import tensorflow as tf

from tfflows.metrics.likelihood import bits_per_dim
from tfflows.models.gaussian import gaussian_log_prob
from tfflows.models.latent_flow import SMALL_NETWORKS, LatentFlowAutoEncoder
from tfflows.models.registry import register
from tfflows.optimizers import SplitAdam

__all__ = ["GLF"]

RECONSTRUCTION_LOSSES = ("mse", "bce", "perceptual")


@register("glf", presets={"small": SMALL_NETWORKS})
@keras.saving.register_keras_serializable(package="tfflows")
class GLF(LatentFlowAutoEncoder):
    """GLF: a deterministic auto-encoder and a RealNVP flow on its latents (section 3).

    Images are seen on the [0, 1] scale of Table 3's sigmoid decoder: the
    dequantized model-space image plus 0.5, `y = (x + u) / 256` (the authors
    feed `x / 255`; the dequantization keeps the density of `y` comparable to
    the other models'). With encoder `E`, decoder `G` and flow `f` (latent to
    noise), per example the loss is eq. (2)

      loss = beta * L_recon(y, G(E(y))) + L_NLL(f(sg[E(y)]))
      L_NLL(z) = -log p_flow(z) = -(log N(f(z); 0, I) + log |det df/dz|)      (eq. 1)

    with `sg` the stop-gradient: with `stop_gradient=True` (GLF) the NLL
    trains only the flow and `beta` does not matter (section 3.3); with
    `stop_gradient=False` (regularized GLF, registered as "glf_regularized") the NLL also
    reaches the encoder. `L_recon` is, per example, the sum over pixels of the
    squared error (the authors' `MSELoss(reduction="sum")`), of the binary
    cross-entropy, or a perceptual loss (see `perceptual_distance`).

    Likelihood semantics: GLF defines a density on the latent, not on images.
    `log_prob` is the *joint* `log N(y; G(z), 1/beta I) + log p_flow(z)` at
    `z = E(y)`, made discrete like the other models' (minus `D n log 2`),
    `likelihood_kind = "joint"`. It is not a bound on `log p(x)` and is not
    comparable to the flows' or VAEs' numbers. `latent_log_prob` is
    `log p_flow(E(y))`, a density of the latent. Sampling: `x = G(F(T eps))`,
    `eps ~ N(0, I)`, `F = f^-1`.

    Defaults: Table 3's auto-encoder, a flow of 4 blocks of two affine
    couplings with 3-layer conditioners, `nz = 20, k = 64` for grey images and
    `nz = 64, k = 256` for colour ones (section 4).

    The auto-encoder's and the flow's arguments (`image_shape`, `latent_dim`,
    `filters`, `flow_*`, `autoencoder_*`, `decoder_logit_scale`, `num_bits`) are
    `LatentFlowAutoEncoder`'s, passed on as keyword arguments.

    Args:
      beta: weight of the reconstruction loss, and the joint's decoder precision.
      stop_gradient: stop the NLL's gradient at the latent (GLF); False is regularized GLF.
      reconstruction_loss: "mse" (sum of squared errors), "bce" or "perceptual".
      feature_extractor: for "perceptual", a Keras model from [0, 1] images
        (1 or 3 channels; grey images are repeated) to a feature map or a list of them.
      flow_weight_decay: coupled L2 weight decay of the flow's Adam (B.1: 2e-5).
      flow_adam_betas: Adam's betas for the flow (the authors' code: 0.8, 0.9).
      flow_adam_epsilon: Adam's epsilon for the flow (the authors' code: 1e-6).
    """

    likelihood_kind = "joint"
    terms = ("loss", "log_likelihood", "reconstruction", "latent_nll", "mse")

    def __init__(
        self,
        image_shape,
        beta=1.0,
        stop_gradient=True,
        reconstruction_loss="mse",
        feature_extractor=None,
        flow_weight_decay=2e-5,
        flow_adam_betas=(0.8, 0.9),
        flow_adam_epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(image_shape, **kwargs)
        self.beta = float(beta)
        self.stop_gradient = bool(stop_gradient)
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction_loss must be one of {RECONSTRUCTION_LOSSES}.")
        if (reconstruction_loss == "perceptual") != (feature_extractor is not None):
            raise ValueError('A feature_extractor goes with reconstruction_loss="perceptual".')
        self.reconstruction_loss = reconstruction_loss
        if isinstance(feature_extractor, dict):
            feature_extractor = keras.saving.deserialize_keras_object(feature_extractor)
        self.feature_extractor = feature_extractor
        if feature_extractor is not None:
            feature_extractor.trainable = False  # a fixed metric, not trained with the model
        self.flow_weight_decay = float(flow_weight_decay)
        self.flow_adam_betas = tuple(float(b) for b in flow_adam_betas)
        self.flow_adam_epsilon = float(flow_adam_epsilon)
        self.built = True  # every weight exists now; nothing waits for an input shape

    # -- the objective -----------------------------------------------------------------------

    def perceptual_distance(self, y, reconstruction):
        """NAM's perceptual loss (Hoshen & Wolf; GLF, B.1), per example.

        `mean |y - y'| + sum_l mean |phi_l(y) - phi_l(y')|` over the feature
        maps `phi_l` of `feature_extractor` (VGG in the paper), with grey
        images repeated to 3 channels when the extractor wants colour.
        """
        if self.feature_extractor.inputs[0].shape[-1] == 3 and y.shape[-1] == 1:
            y, reconstruction = tf.tile(y, [1, 1, 1, 3]), tf.tile(reconstruction, [1, 1, 1, 3])
        distance = tf.reduce_mean(tf.abs(y - reconstruction), axis=[1, 2, 3])
        features = tf.nest.flatten(self.feature_extractor(y, training=False))
        rebuilt = tf.nest.flatten(self.feature_extractor(reconstruction, training=False))
        for a, b in zip(features, rebuilt):
            distance += tf.reduce_mean(tf.reshape(tf.abs(a - b), [tf.shape(a)[0], -1]), axis=1)
        return distance

    def reconstruction_terms(self, y, logits):
        """`(L_recon, squared error per pixel)` per example, from the decoder's logits."""
        reconstruction = tf.sigmoid(logits)
        mse = tf.reduce_mean(tf.square(y - reconstruction), axis=[1, 2, 3])
        if self.reconstruction_loss == "mse":
            loss = mse * self.num_dims
        elif self.reconstruction_loss == "bce":
            loss = tf.reduce_sum(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits), axis=[1, 2, 3]
            )
        else:
            loss = self.perceptual_distance(y, reconstruction)
        return loss, mse

    def latent_log_prob(self, z, training=False):
        """`log p_flow(z)`, eq. (1)."""
        return self.flow_log_prob(z, training=training)

    def per_example_terms(self, images, training=False, seed=None):
        y = self.unit_images(images, seed=seed)
        z = self.encoder(y, training=training)
        logits = self.decoder(z, training=training)
        reconstruction, mse = self.reconstruction_terms(y, logits)
        # GLF's stop-gradient (section 3.3): the NLL trains the flow, not the encoder.
        latent_log_prob = self.latent_log_prob(
            tf.stop_gradient(z) if self.stop_gradient else z, training=training
        )
        joint = self._joint_log_prob(y, logits, latent_log_prob)
        return {
            "loss": self.loss_from_objective(latent_log_prob - self.beta * reconstruction),
            "log_likelihood": self.discrete_log_likelihood(joint),
            "reconstruction": reconstruction,
            "latent_nll": -latent_log_prob,
            "mse": mse,
        }

    def _joint_log_prob(self, y, logits, latent_log_prob):
        # log N(y; G(z), 1/beta I) + log p_flow(z): a joint density, not a bound.
        log_scale = -0.5 * math.log(self.beta)
        return gaussian_log_prob(y, tf.sigmoid(logits), log_scale, event_ndims=3) + latent_log_prob

    def serving_log_prob(self, images, seed=None):
        """`log_prob` (the joint), `bits_per_dim` of it, and `latent_log_prob`, per example."""
        y = self.unit_images(images, seed=seed)
        z = self.encoder(y, training=False)
        latent_log_prob = self.latent_log_prob(z)
        joint = self._joint_log_prob(y, self.decoder(z, training=False), latent_log_prob)
        log_prob = self.discrete_log_likelihood(joint)
        return {
            "log_prob": log_prob,
            "bits_per_dim": bits_per_dim(log_prob, self.num_dims),
            "latent_log_prob": latent_log_prob,
        }

    def make_optimizer(self, learning_rate, clipnorm=None, **kwargs):
        """Appendix B.1: Adam 1e-3 for both; the flow's with coupled L2 2e-5 (see `SplitAdam`).

        The paper's epsilons and L2 weight are for a loss in nats per example;
        `loss` here is that loss in bits/dim (`loss_from_objective`), its
        gradients smaller by `nats_per_loss_unit`, so they are divided by it
        too: Adam then takes the same steps as on the nats loss (Adam's step is
        invariant to the loss's scale when epsilon scales with it, and coupled
        L2 adds to the gradient). `kwargs` go to the Keras optimizer (e.g.
        `use_ema=True`), as in the base class.
        """
        per_nat = 1.0 / self.nats_per_loss_unit
        optimizer = SplitAdam(
            learning_rate,
            epsilon=1e-8 * per_nat,  # PyTorch's default, the authors' auto-encoder optimizer
            group_beta_1=self.flow_adam_betas[0],
            group_beta_2=self.flow_adam_betas[1],
            group_epsilon=self.flow_adam_epsilon * per_nat,
            group_l2=self.flow_weight_decay * per_nat,
            clipnorm=clipnorm,
            **kwargs,
        )
        return optimizer.set_group(self.flow.trainable_variables)

    # -- latents, sampling, interpolation ----------------------------------------------------

    def encode(self, images):
        """uint8 images to `z = E(y)` (dequantization noise seed 0)."""
        return self.encoder(self.unit_images(images, seed=0), training=False)

    def get_config(self):
        extractor = self.feature_extractor
        return {
            **super().get_config(),
            "beta": self.beta,
            "stop_gradient": self.stop_gradient,
            "reconstruction_loss": self.reconstruction_loss,
            "feature_extractor": (
                None if extractor is None else keras.saving.serialize_keras_object(extractor)
            ),
            "flow_weight_decay": self.flow_weight_decay,
            "flow_adam_betas": self.flow_adam_betas,
            "flow_adam_epsilon": self.flow_adam_epsilon,
        }


# Regularized GLF (section 3.3) is GLF without the stop-gradient: the flow's NLL
# reaches the encoder, with `beta` weighting the reconstruction (the paper tries
# 1 to 400 and finds it unstable, section 4.2.1 and appendix D).
register(
    "glf_regularized",
    presets={
        "default": {"stop_gradient": False},
        "small": {**SMALL_NETWORKS, "stop_gradient": False},
    },
)(GLF)
