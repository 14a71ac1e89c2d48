"""Convolutional VAE with a Gaussian decoder (Kingma & Welling, 2014; Dai & Wipf, 2019)."""

import math

import keras
import tensorflow as tf

from tfflows.layers import standard_normal
from tfflows.models.base import GenerativeModel, input_dtype, max_halvings
from tfflows.models.gaussian import (
    gaussian_log_prob,
    kl_to_standard_normal,
    reparameterized_sample,
    standard_normal_log_prob,
)
from tfflows.models.registry import register

__all__ = ["VAE", "conv_decoder", "conv_encoder"]


def conv_encoder(
    image_shape, outputs, filters=(32, 64), hidden_units=256, name="encoder", dtype=None
):
    """Stride-2 4x4 convolutions, then a dense layer to `outputs` units."""
    stages = max_halvings(image_shape, len(filters))
    inputs = keras.Input(image_shape, dtype=input_dtype(dtype))
    h = inputs
    for width in filters[:stages]:
        h = keras.layers.Conv2D(
            width, 4, strides=2, padding="same", activation="relu", dtype=dtype
        )(h)
    h = keras.layers.Flatten(dtype=dtype)(h)
    h = keras.layers.Dense(hidden_units, activation="relu", dtype=dtype)(h)
    return keras.Model(inputs, keras.layers.Dense(outputs, dtype=dtype)(h), name=name)


def conv_decoder(
    image_shape, latent_dim, filters=(32, 64), hidden_units=256, name="decoder", dtype=None
):
    """The mirror of `conv_encoder` (same `filters`): dense, reshape, transposed convolutions."""
    height, width, channels = image_shape
    widths = filters[: max_halvings(image_shape, len(filters))]
    factor = 2 ** len(widths)
    start = (height // factor, width // factor, widths[-1] if widths else filters[0])
    inputs = keras.Input((latent_dim,), dtype=input_dtype(dtype))
    h = keras.layers.Dense(hidden_units, activation="relu", dtype=dtype)(inputs)
    h = keras.layers.Dense(math.prod(start), activation="relu", dtype=dtype)(h)
    h = keras.layers.Reshape(start, dtype=dtype)(h)
    for width_ in reversed(widths[:-1]):
        h = keras.layers.Conv2DTranspose(
            width_, 4, strides=2, padding="same", activation="relu", dtype=dtype
        )(h)
    if widths:
        h = keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", dtype=dtype)(h)
    else:
        h = keras.layers.Conv2D(channels, 3, padding="same", dtype=dtype)(h)
    return keras.Model(inputs, h, name=name)


@register("vae", presets={"small": {"latent_dim": 16, "filters": (16, 32), "hidden_units": 128}})
@keras.saving.register_keras_serializable(package="tfflows")
class VAE(GenerativeModel):
    """VAE with `q(z|x) = N(mu(y), sigma(y)^2)`, `p(z) = N(0, I)`, `p(y|z) = N(G(z), gamma^2 I)`.

    On the dequantized model-space image `y` (D dimensions), per example:

      ELBO(y) = E_q[log N(y; G(z), gamma^2 I)] - KL(q(z|y) || N(0, I))
      log p(y|z) = -||y - G(z)||^2 / (2 gamma^2) - D log gamma - D/2 log(2 pi)

    with one reparameterised sample and the analytic KL (Kingma & Welling,
    eq. 10). With `learn_decoder_scale=True` the scalar `gamma` is trained
    with the rest, as Dai & Wipf (2019, "Diagnosing and enhancing VAE
    models") do; its normalising term `D log gamma` keeps it from growing
    without bound. Reported likelihoods are the ELBO (or, with
    `num_importance_samples=K > 1`, the importance-weighted bound of Burda et
    al.) of the discrete image, `bound(y) - D n log 2`.

    Args:
      image_shape: `(H, W, C)`.
      latent_dim: size of z.
      filters: widths of the stride-2 convolutions (mirrored in the decoder).
      hidden_units: width of the dense layers.
      decoder_scale: gamma, the initial (or fixed) decoder standard deviation;
        None (default): set by `initialize` from the data (see there). Dai &
        Wipf start the learned gamma at 1, which on model-space pixels in
        [-0.5, 0.5] is ~4 times their spread: the reconstruction term is then
        too weak against the KL, the posterior collapses and 2 epochs on
        digits scored 9.33 bits/dim (a uniform density: 8.00) with
        reconstructions further from the images (MSE 0.140) than the mean
        image is (0.072).
      learn_decoder_scale: train gamma.
      num_bits: bit depth the model sees.
    """

    likelihood_kind = "elbo"
    terms = ("loss", "log_likelihood", "kl", "reconstruction", "decoder_scale")

    def __init__(
        self,
        image_shape,
        latent_dim=64,
        filters=(32, 64),
        hidden_units=256,
        decoder_scale=None,
        learn_decoder_scale=True,
        num_bits=8,
        **kwargs,
    ):
        super().__init__(image_shape, num_bits=num_bits, **kwargs)
        self.latent_dim = int(latent_dim)
        self.latent_shape = (self.latent_dim,)
        self.filters = tuple(int(f) for f in filters)
        self.hidden_units = int(hidden_units)
        self.decoder_scale = None if decoder_scale is None else float(decoder_scale)
        self.learn_decoder_scale = bool(learn_decoder_scale)
        nets = dict(filters=self.filters, hidden_units=self.hidden_units, dtype=self.dtype_policy)
        self.encoder = conv_encoder(self.image_shape, 2 * self.latent_dim, **nets)
        self.decoder = conv_decoder(self.image_shape, self.latent_dim, **nets)
        self.log_decoder_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(self.decoder_scale or 1.0)),
            trainable=self.learn_decoder_scale,
            name="log_decoder_scale",
        )
        # G(z) = decoder(z) + offset, the offset a per-pixel image (`initialize`).
        self.decoder_offset = self.add_weight(
            shape=self.image_shape, initializer="zeros", name="decoder_offset"
        )
        self.built = True  # every weight exists now; nothing waits for an input shape

    def posterior(self, y):
        """Mean and log standard deviation of `q(z | y)`."""
        # The bound is computed in the variables' dtype (float32 under mixed precision).
        mean, log_scale = tf.split(tf.cast(self.encoder(y), y.dtype), 2, axis=-1)
        return mean, log_scale

    def _reconstruction_log_prob(self, y, z):
        return gaussian_log_prob(y, self.decoder_mean(z), self.log_decoder_scale, event_ndims=3)

    def decoder_mean(self, z):
        """`G(z)`: the decoder network plus the per-pixel offset `initialize` sets."""
        return tf.cast(self.decoder(z), self.decoder_offset.dtype) + self.decoder_offset

    def per_example_terms(self, images, training=False, seed=None):
        y = self.model_space(images, seed=seed)
        mean, log_scale = self.posterior(y)
        z = reparameterized_sample(mean, log_scale, self.noise_seeds(images, seed))
        reconstruction = self._reconstruction_log_prob(y, z)
        kl = kl_to_standard_normal(mean, log_scale)
        log_likelihood = self.discrete_log_likelihood(reconstruction - kl)
        return {
            "loss": self.loss_from_objective(log_likelihood),
            "log_likelihood": log_likelihood,
            "kl": kl,
            "reconstruction": -reconstruction,
            "decoder_scale": tf.exp(self.log_decoder_scale) * tf.ones_like(kl),
        }

    def importance_log_weights(self, y, seeds=None):
        """`log p(y | z) + log N(z; 0, I) - log q(z | y)` per row, `z ~ q(z | y)`."""
        mean, log_scale = self.posterior(y)
        z = reparameterized_sample(mean, log_scale, seeds)
        return (
            self._reconstruction_log_prob(y, z)
            + standard_normal_log_prob(z, 1)
            - gaussian_log_prob(z, mean, log_scale, 1)
        )

    def initialize(self, images):
        """Data-dependent initialisation from one batch (eager, once), as Glow's actnorm.

        The decoder's per-pixel offset starts at the batch's mean image, so a
        new decoder reconstructs about as well as the mean image does, and,
        unless `decoder_scale` was given, gamma at the root-mean-square error
        of the initial reconstructions `G(mu(y))`: the maximum-likelihood
        gamma for the initial decoder, so the reconstruction term starts
        calibrated against the KL (Rybkin et al., 2021, "Simple and effective
        VAE training with calibrated decoders").
        """
        y = self.model_space(images, seed=0)
        self.decoder_offset.assign(tf.cast(tf.reduce_mean(y, axis=0), self.decoder_offset.dtype))
        if self.decoder_scale is None:
            error = y - tf.cast(self.decoder_mean(self.posterior(y)[0]), y.dtype)
            mean_square = tf.reduce_mean(tf.square(tf.cast(error, tf.float32)))
            self.log_decoder_scale.assign(0.5 * tf.math.log(mean_square))

    def encode(self, images):
        """uint8 images to the posterior mean of z (dequantized at bin centres' noise seed 0)."""
        return self.posterior(self.model_space(images, seed=0))[0]

    def _decode(self, latents):
        """Latents to float32 images in [0, 1] (the decoder mean)."""
        return self.dequantize.to_unit_interval(self.decoder_mean(latents))

    def sample(self, num_samples, temperature=1.0, seed=None):
        shape = tf.stack([tf.cast(num_samples, tf.int32), self.latent_dim])
        z = tf.cast(temperature, self.compute_dtype) * standard_normal(
            shape, seed, dtype=self.compute_dtype
        )
        return self._decode(z)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "filters": self.filters,
            "hidden_units": self.hidden_units,
            "decoder_scale": self.decoder_scale,
            "learn_decoder_scale": self.learn_decoder_scale,
        }
