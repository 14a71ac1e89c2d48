"""Glow's convolutional coupling network: the conditioning half to shift (and log-scale)."""

import keras
import tensorflow as tf

from tfflows.layers._devices import use_cpu_formulations
from tfflows.layers.flow import as_conditional_shape, conditional_units

__all__ = ["ConvConditioner"]


def _fold_batch(x, image_rank=None):
    """`[..., h, w, c] -> [N, h, w, c]` (a per-example vector `[..., d]` -> `[N, d]`)."""
    if x is None:
        return None
    event_rank = 3 if image_rank is None or x.shape.rank == image_rank else 1
    event_shape = x.shape[-event_rank:]
    return tf.reshape(
        x,
        [-1]
        + [
            tf.shape(x)[i] if d is None else d
            for i, d in enumerate(event_shape, x.shape.rank - event_rank)
        ],
    )


def _unfold_batch(h, like):
    """Restores the batch axes of `like` to `h`, `[N, h, w, c] -> [..., h, w, c]`."""
    shape = tf.concat([tf.shape(like)[:-3], tf.shape(h)[1:]], axis=0)
    return tf.ensure_shape(tf.reshape(h, shape), like.shape[:-1].concatenate(h.shape[-1:]))


def _split_outputs(h, num_outputs):
    return tuple(tf.split(h, num_outputs, axis=-1)) if num_outputs > 1 else h


def _conv_by_output_shifts(x, kernel, bias):
    """A stride-1 "same" convolution with an odd `k x k` kernel, for few outputs.

    Computes the `k*k` per-tap products of every position in one matmul,
    `[N*H*W, C_in] @ [C_in, k*k*C_out]`, then sums the taps' outputs shifted
    into place (pad + slice). Equal to `tf.nn.conv2d(x, kernel, 1, "SAME")`
    up to float rounding. TF's CPU `Conv2DBackpropFilter` is slow when
    `C_out` is small (Glow's last coupling convolution, 128 or 512 channels
    down to a few: 8x slower than its forward pass at 128 -> 12, and 60% of
    the op time of `benchmarks/flow_throughput.py`'s training step); here the
    kernel gradient is one well-shaped matmul `x^T @ shifted(dy)` and the
    shifts are cheap copies of `C_out` channels.
    """
    k, cin, cout = kernel.shape[0], kernel.shape[2], kernel.shape[3]
    r = k // 2
    shape = tf.shape(x)
    taps = tf.reshape(tf.transpose(kernel, [2, 0, 1, 3]), [cin, k * k * cout])
    z = tf.matmul(tf.reshape(x, [-1, cin]), taps)
    z = tf.reshape(z, tf.concat([shape[:-1], [k * k * cout]], axis=0))
    size = tf.concat([[-1], shape[1:3], [cout]], axis=0)
    paddings = [[0, 0], [r, r], [r, r], [0, 0]]
    # tf.slice/tf.pad (not strided slices) so the gradients are pads/slices too.
    parts = tf.split(z, k * k, axis=-1)
    out = tf.add_n(
        [
            tf.slice(tf.pad(parts[k * i + j], paddings), [0, i, j, 0], size)
            for i in range(k)
            for j in range(k)
        ]
    )
    return out if bias is None else tf.nn.bias_add(out, bias)


@keras.saving.register_keras_serializable(package="tfflows")
class ConvConditioner(keras.layers.Layer):
    """Glow's coupling network NN(): 3x3 conv -> ReLU -> 1x1 conv -> ReLU -> 3x3 conv.

    The last convolution is zero-initialised (Glow, section 3.3), so a new
    coupling outputs zero shift and zero raw log-scale: the identity for the
    "tanh" and "exp" scale activations. With `hidden_units=None` the network
    is that single zero-initialised 3x3 convolution, Glow's learned prior at a
    split. Glow normalises the hidden layers with actnorm; like TFP's
    `GlowDefaultNetwork` this uses biases instead.

    A conditional input is concatenated to the input channels: an image-shaped
    one `[..., h, w, c]` as is, a vector `[..., d]` tiled over the positions.

    Args:
      output_channels: channels of each output (the transformed half's size).
      num_outputs: 2 for (shift, raw log-scale), 1 for a shift only.
      hidden_units: width of the hidden layers, or None for no hidden layer.
      kernel_size: size of the first and last kernels (Glow: 3).
      conditional_shape: shape of one example's conditional input, `(h, w, c)` or
        `(d,)` (see `Flow`), or None.
    """

    def __init__(
        self,
        output_channels,
        num_outputs=2,
        hidden_units=512,
        kernel_size=3,
        conditional_shape=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_channels = int(output_channels)
        self.num_outputs = int(num_outputs)
        self.hidden_units = None if hidden_units is None else int(hidden_units)
        self.kernel_size = int(kernel_size)
        self.conditional_shape = as_conditional_shape(conditional_shape)
        self.hidden = []
        if self.hidden_units is not None:
            self.hidden = [
                keras.layers.Conv2D(
                    self.hidden_units,
                    self.kernel_size,
                    padding="same",
                    activation="relu",
                    name="conv_in",
                    dtype=self.dtype_policy,
                ),
                keras.layers.Conv2D(
                    self.hidden_units,
                    1,
                    activation="relu",
                    name="conv_hidden",
                    dtype=self.dtype_policy,
                ),
            ]
        self.out = keras.layers.Conv2D(
            self.output_channels * self.num_outputs,
            self.kernel_size,
            padding="same",
            kernel_initializer="zeros",
            name="conv_out",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        shape = tuple(input_shape[:-1]) + (
            input_shape[-1] + conditional_units(self.conditional_shape),
        )
        for layer in self.hidden:
            layer.build(shape)
            shape = shape[:-1] + (self.hidden_units,)
        self.out.build(shape)

    def call(self, inputs, conditional_input=None):
        if inputs.shape.rank != 4:
            # Convolutions want exactly one batch axis: fold the others into it.
            h = self.call(_fold_batch(inputs), _fold_batch(conditional_input, inputs.shape.rank))
            return tf.nest.map_structure(lambda t: _unfold_batch(t, inputs), h)
        h = inputs
        if conditional_input is not None:
            c = tf.cast(conditional_input, h.dtype)
            if c.shape.rank == 2:  # a vector per example, tiled over positions
                c = tf.tile(c[:, None, None, :], [1, tf.shape(h)[1], tf.shape(h)[2], 1])
            h = tf.concat([h, c], axis=-1)
        for layer in self.hidden:
            h = layer(h)
        return _split_outputs(self._output_conv(h), self.num_outputs)

    def _output_conv(self, h):
        out = self.out
        kernel_size = self.kernel_size
        few_outputs = 4 * out.filters <= h.shape[-1]
        if kernel_size % 2 == 1 and kernel_size > 1 and few_outputs and use_cpu_formulations():
            # Many inputs to few outputs (the coupling's last layer) on CPU: see
            # `_conv_by_output_shifts`. Same weights as the Keras layer. GPUs (and
            # exports, see `_devices.portable`) keep TF's convolution.
            bias = None if out.bias is None else tf.cast(out.bias, h.dtype)
            return _conv_by_output_shifts(h, tf.cast(out.kernel, h.dtype), bias)
        return out(h)

    def get_config(self):
        return {
            **super().get_config(),
            "output_channels": self.output_channels,
            "num_outputs": self.num_outputs,
            "hidden_units": self.hidden_units,
            "kernel_size": self.kernel_size,
            "conditional_shape": self.conditional_shape,
        }
