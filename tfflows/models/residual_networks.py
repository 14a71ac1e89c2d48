"""f-VAE's encoder `E` and decoder `G`: squeezes and residual steps (Su & Wu 2018, Experiments).

The paper: "our E contains several blocks and apply Squeeze operation before
each block. And each block contains several steps, denoted by `x + CNN(x)`,
while `CNN(x)` is stack of a 3x3 ReLU convolution and 1x1 linear convolution.
The decoder G ... is the inverse of E. Add tanh at the final of G is usually a
good choice." A squeeze is a reshape and the residual steps keep the channel
count, so `E` maps an image `[H, W, C]` to `[H/2^B, W/2^B, C 4^B]`: a latent of
the image's size (D numbers) in space-to-depth layout, the paper's choice. An
optional final 1x1 convolution to `latent_channels` gives the dimension-reduced
latent that loss (6) also allows; `G` then starts with the inverse 1x1 map.
"""

import keras
import tensorflow as tf

from tfflows.models.base import input_dtype

__all__ = ["DepthToSpace", "SpaceToDepth", "residual_decoder", "residual_encoder"]


@keras.saving.register_keras_serializable(package="tfflows")
class SpaceToDepth(keras.layers.Layer):
    """`[h, w, c] -> [h/2, w/2, 4c]`, the layout of `bijectors.Squeeze`."""

    def call(self, x):
        return tf.nn.space_to_depth(x, 2)

    def compute_output_shape(self, shape):
        return (shape[0], shape[1] // 2, shape[2] // 2, shape[3] * 4)


@keras.saving.register_keras_serializable(package="tfflows")
class DepthToSpace(keras.layers.Layer):
    """`[h, w, 4c] -> [2h, 2w, c]`, the inverse of `SpaceToDepth`."""

    def call(self, x):
        return tf.nn.depth_to_space(x, 2)

    def compute_output_shape(self, shape):
        return (shape[0], shape[1] * 2, shape[2] * 2, shape[3] // 4)


def _residual_step(x, hidden_units, name, dtype):
    """`x + CNN(x)`, `CNN` = 3x3 ReLU conv then 1x1 linear conv back to x's channels."""
    h = keras.layers.Conv2D(
        hidden_units, 3, padding="same", activation="relu", name=f"{name}_conv3x3", dtype=dtype
    )(x)
    # Zero-initialised so each step starts as the identity (stable deep stacks).
    h = keras.layers.Conv2D(
        x.shape[-1], 1, kernel_initializer="zeros", name=f"{name}_conv1x1", dtype=dtype
    )(h)
    return keras.layers.Add(name=f"{name}_add", dtype=dtype)([x, h])


def encoded_shape(image_shape, num_blocks, latent_channels=None):
    """Shape of `E(x)`: `[H/2^B, W/2^B, C 4^B]`, or `latent_channels` channels."""
    height, width, channels = image_shape
    factor = 2**num_blocks
    if height % factor or width % factor:
        raise ValueError(f"{num_blocks} encoder blocks need sides divisible by {factor}.")
    out = latent_channels or channels * factor * factor
    return (height // factor, width // factor, int(out))


def residual_encoder(
    image_shape,
    num_blocks,
    num_steps,
    hidden_units,
    latent_channels=None,
    dtype=None,
    name="encoder",
):
    """`E`: B blocks of (squeeze, `num_steps` residual steps), optional 1x1 to `latent_channels`."""
    inputs = keras.Input(image_shape, dtype=input_dtype(dtype))
    x = inputs
    for block in range(num_blocks):
        x = SpaceToDepth(name=f"block{block}_squeeze", dtype=dtype)(x)
        for step in range(num_steps):
            x = _residual_step(x, hidden_units, f"block{block}_step{step}", dtype)
    if latent_channels:
        x = keras.layers.Conv2D(latent_channels, 1, name="to_latent", dtype=dtype)(x)
    return keras.Model(inputs, x, name=name)


def residual_decoder(
    image_shape,
    num_blocks,
    num_steps,
    hidden_units,
    latent_channels=None,
    tanh=True,
    output_scale=0.5,
    dtype=None,
    name="decoder",
):
    """`G`, the mirror of `residual_encoder`: residual steps and un-squeezes in reverse.

    With `tanh`, the output is `output_scale * tanh(h)`: model-space pixels lie in
    `[-0.5, 0.5]` here (the paper's `tanh` for pixels in [-1, 1], scaled).
    """
    latent = encoded_shape(image_shape, num_blocks, latent_channels)
    inputs = keras.Input(latent, dtype=input_dtype(dtype))
    x = inputs
    if latent_channels:
        full = encoded_shape(image_shape, num_blocks)[-1]
        x = keras.layers.Conv2D(full, 1, name="from_latent", dtype=dtype)(x)
    for block in reversed(range(num_blocks)):
        for step in reversed(range(num_steps)):
            x = _residual_step(x, hidden_units, f"block{block}_step{step}", dtype)
        x = DepthToSpace(name=f"block{block}_unsqueeze", dtype=dtype)(x)
    if tanh:
        x = keras.layers.Activation("tanh", name="tanh", dtype=dtype)(x)
        x = keras.layers.Rescaling(output_scale, name="scale", dtype=dtype)(x)
    return keras.Model(inputs, x, name=name)
