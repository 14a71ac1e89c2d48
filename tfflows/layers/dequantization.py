"""Uniform dequantization of n-bit images as a Keras layer."""

import keras
import tensorflow as tf

from tfflows.data.dequantization import example_seeds, uniform_dequantize
from tfflows.data.preprocessing import reduce_bits

__all__ = ["UniformDequantization"]


@keras.saving.register_keras_serializable(package="tfflows")
class UniformDequantization(keras.layers.Layer):
    """8-bit images to continuous model space `y = (x_n + u) / 2^n - 0.5`, and back.

    `x_n = x // 2^(8-n)` keeps the n most significant bits (Glow's 5-bit
    CelebA-HQ) and `u ~ U[0, 1)` fills each bin, so a density `p(y)` fitted
    to `y` bounds the discrete log-likelihood:
    `log P(x_n) >= E_u[log p(y)] - D n log 2` (see `tfflows.metrics.likelihood`).

    `call(images, seed=None)` draws fresh noise, or for a seed each image's
    noise from `data.example_seeds(images, seed)`: a function of that image's
    pixels and the seed only, so an image gets the same `y` in any batch
    (per-example seeds `[N, 2]` are used as they are).
    `discretize(y)` maps model space back to uint8 8-bit images (bin centres
    scaled up), and `to_unit_interval(y)` to floats in [0, 1] for display.

    Args:
      num_bits: n, the bit depth the model sees (1..8).
    """

    def __init__(self, num_bits=8, **kwargs):
        super().__init__(**kwargs)
        if not 1 <= int(num_bits) <= 8:
            raise ValueError(f"num_bits must be in 1..8, got {num_bits}.")
        self.num_bits = int(num_bits)
        self.built = True  # no weights

    def call(self, images, seed=None):
        if seed is not None and tf.convert_to_tensor(seed).shape.rank != 2:
            seed = example_seeds(images, seed)
        y = uniform_dequantize(reduce_bits(images, self.num_bits), self.num_bits, seed)
        return tf.cast(y, self.compute_dtype)

    def discretize(self, y):
        """Model space to uint8 8-bit images: the n-bit bin of `y`, scaled up to 0..255."""
        levels = 2**self.num_bits
        bins = tf.clip_by_value(tf.floor((tf.cast(y, tf.float32) + 0.5) * levels), 0, levels - 1)
        return tf.cast(bins * 2 ** (8 - self.num_bits), tf.uint8)

    def to_unit_interval(self, y):
        """Model space to float32 in [0, 1]."""
        return tf.clip_by_value(tf.cast(y, tf.float32) + 0.5, 0.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "num_bits": self.num_bits}
