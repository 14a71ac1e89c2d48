"""Generative Latent Flow (Xiao, Yan & Amit, 2019) and its regularized variant."""

import math

import keras
import tensorflow as tf

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

    Args:
      image_shape: `(H, W, C)`, sides divisible by 4.
      latent_dim: nz (None: 20 for C = 1, else 64).
      filters: widths of the two stride-2 convolutions (Table 3: 64, 128).
      hidden_units: width of the auto-encoder's fully connected layer (1024).
      flow_blocks: coupling blocks of the latent flow (4).
      flow_hidden_units: k, the couplings' width (None: 64 for C = 1, else 256).
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
      beta: weight of the reconstruction loss, and the joint's decoder precision.
      stop_gradient: stop the NLL's gradient at the latent (GLF); False is regularized GLF.
      reconstruction_loss: "mse" (sum of squared errors), "bce" or "perceptual".
      feature_extractor: for "perceptual", a Keras model from [0, 1] images
        (1 or 3 channels; grey images are repeated) to a feature map or a list of them.
      flow_weight_decay: coupled L2 weight decay of the flow's Adam (B.1: 2e-5).
      flow_adam_betas: Adam's betas for the flow (the authors' code: 0.8, 0.9).
      flow_adam_epsilon: Adam's epsilon for the flow (the authors' code: 1e-6).
      num_bits: bit depth the model sees.
    """

    likelihood_kind = "joint"
    terms = ("loss", "log_likelihood", "reconstruction", "latent_nll", "mse")

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
        stop_gradient=True,
        reconstruction_loss="mse",
        feature_extractor=None,
        flow_weight_decay=2e-5,
        flow_adam_betas=(0.8, 0.9),
        flow_adam_epsilon=1e-6,
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
            num_bits=num_bits,
            **kwargs,
        )
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
            "loss": self.beta * reconstruction - latent_log_prob,
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
            "bits_per_dim": -log_prob / (self.num_dims * math.log(2.0)),
            "latent_log_prob": latent_log_prob,
        }

    def make_optimizer(self, learning_rate, clipnorm=None, **kwargs):
        """Appendix B.1: Adam 1e-3 for both; the flow's with coupled L2 2e-5 (see `SplitAdam`).

        `kwargs` go to the Keras optimizer (e.g. `use_ema=True`), as in the base class.
        """
        optimizer = SplitAdam(
            learning_rate,
            epsilon=1e-8,  # PyTorch's default, the authors' auto-encoder optimizer
            group_beta_1=self.flow_adam_betas[0],
            group_beta_2=self.flow_adam_betas[1],
            group_epsilon=self.flow_adam_epsilon,
            group_l2=self.flow_weight_decay,
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
