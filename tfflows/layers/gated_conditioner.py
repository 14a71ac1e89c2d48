"""Flow++'s coupling network: gated residual convolutions and self-attention (Ho et al. 2019, 3.3).

A 3x3 input convolution to `hidden_units` channels, `num_blocks` blocks, and a
zero-initialised 3x3 output convolution. Each block is, on `h` `[N, H, W, C]`,

    h = LayerNorm(h + GatedConv(h, c))
    h = LayerNorm(h + GatedAttention(h))          (if `attention`)

    GatedConv(h, c) = GLU(conv1x1(concat_elu(conv3x3(concat_elu(h)) + conv1x1(concat_elu(c)))))
    GatedAttention(h) = GLU(dense(MultiHeadAttention(h + positions)))
    GLU([a, b]) = a * sigmoid(b),   concat_elu(x) = elu([x, -x])

with `c` the conditional input (Flow++'s context, e.g. VFlow's `q(z | x)` or
the variational dequantizer's image features), attention over the `H x W`
positions with sinusoidal position encodings. Differences from the Flow++
code: no weight normalisation (Keras 3 has none; LayerNorm follows every
residual), and the output convolution starts at zero as every tfflows
coupling network (a new coupling is the identity; see `Coupling`).
"""

import math

import keras
import tensorflow as tf

from tfflows.layers.conv_conditioner import _fold_batch, _split_outputs, _unfold_batch
from tfflows.layers.flow import as_conditional_shape, conditional_units

__all__ = ["GatedConditioner"]


def concat_elu(x):
    """`elu([x, -x])` on the last axis: doubles the channels, keeps both signs' gradients."""
    return tf.nn.elu(tf.concat([x, -x], axis=-1))


def _glu(h):
    a, b = tf.split(h, 2, axis=-1)
    return a * tf.sigmoid(b)


def _positions(length, channels, dtype):
    """Sinusoidal encodings `[length, channels]` (Vaswani et al. 2017), as Flow++ adds them."""
    position = tf.range(length, dtype=tf.float32)[:, None]
    half = channels // 2
    rates = tf.exp(-math.log(10000.0) * tf.range(half, dtype=tf.float32) / max(half - 1, 1))
    angles = position * rates[None, :]
    encoding = tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)
    encoding = tf.pad(encoding, [[0, 0], [0, channels - 2 * half]])
    return tf.cast(encoding, dtype)


@keras.saving.register_keras_serializable(package="tfflows")
class GatedConditioner(keras.layers.Layer):
    """Flow++'s coupling network (see the module docstring), in the `ConvConditioner` contract.

    Called as `net(x_a)` or `net(x_a, conditional_input=c)` on `[..., H, W, C_a]`;
    returns `num_outputs` tensors of `output_channels` channels (one tensor
    for `num_outputs=1`).

    Args:
      output_channels: channels of each output.
      num_outputs: outputs (2 for an affine coupling's shift and raw log-scale;
        1 for additive or mixture-of-logistics couplings, which split their own).
      hidden_units: channels of the blocks (Flow++ on CIFAR-10: 96).
      num_blocks: gated blocks (Flow++: 10).
      attention: add the self-attention half of each block.
      num_heads: attention heads (Flow++: 4); must divide `hidden_units`.
      dropout: dropout rate inside the gated convolutions (Flow++: 0.2 on CIFAR-10).
      conditional_shape: shape of one example's conditional input, `(h, w, c)` at
        the event's height and width or a vector `(d,)` tiled over them, or None.
    """

    def __init__(
        self,
        output_channels,
        num_outputs=2,
        hidden_units=96,
        num_blocks=2,
        attention=True,
        num_heads=4,
        dropout=0.0,
        conditional_shape=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_channels, self.num_outputs = int(output_channels), int(num_outputs)
        self.hidden_units, self.num_blocks = int(hidden_units), int(num_blocks)
        self.attention, self.num_heads = bool(attention), int(num_heads)
        self.dropout = float(dropout)
        self.conditional_shape = as_conditional_shape(conditional_shape)
        if self.num_blocks < 1 or self.hidden_units < 1:
            raise ValueError(
                f"num_blocks and hidden_units must be >= 1, got {num_blocks}, {hidden_units}."
            )
        if self.attention and self.hidden_units % self.num_heads:
            raise ValueError(
                f"num_heads={num_heads} must divide hidden_units={hidden_units} (attention)."
            )
        d, dtype = self.hidden_units, self.dtype_policy

        def conv(filters, kernel, name, **options):
            return keras.layers.Conv2D(
                filters, kernel, padding="same", name=name, dtype=dtype, **options
            )

        self.conv_in = conv(d, 3, "conv_in")
        # One list per part (index = block): what Keras tracks and saves in a stable order.
        blocks = range(self.num_blocks)
        self.convs = [conv(d, 3, f"block{i}_conv") for i in blocks]
        self.gates = [conv(2 * d, 1, f"block{i}_gate") for i in blocks]
        self.norms = [
            keras.layers.LayerNormalization(name=f"block{i}_norm", dtype=dtype) for i in blocks
        ]
        self.contexts = [
            conv(d, 1, f"block{i}_context") for i in blocks if self.conditional_shape is not None
        ]
        self.dropouts = [
            keras.layers.Dropout(self.dropout, name=f"block{i}_dropout")
            for i in blocks
            if self.dropout
        ]
        attention = blocks if self.attention else ()
        self.attentions = [
            keras.layers.MultiHeadAttention(
                self.num_heads, d // self.num_heads, name=f"block{i}_attention", dtype=dtype
            )
            for i in attention
        ]
        self.attention_gates = [
            keras.layers.Dense(2 * d, name=f"block{i}_attention_gate", dtype=dtype)
            for i in attention
        ]
        self.attention_norms = [
            keras.layers.LayerNormalization(name=f"block{i}_attention_norm", dtype=dtype)
            for i in attention
        ]
        self.out = conv(
            self.output_channels * self.num_outputs, 3, "conv_out", kernel_initializer="zeros"
        )

    def build(self, input_shape):
        spatial, d = tuple(input_shape[1:-1]), self.hidden_units
        self.conv_in.build((None, *spatial, input_shape[-1]))
        for i in range(self.num_blocks):
            self.convs[i].build((None, *spatial, 2 * d))
            self.gates[i].build((None, *spatial, 2 * d))
            self.norms[i].build((None, *spatial, d))
            if self.contexts:
                units = 2 * conditional_units(self.conditional_shape)
                self.contexts[i].build((None, *spatial, units))
            if self.attentions:
                self.attentions[i].build((None, None, d), (None, None, d))
                self.attention_gates[i].build((None, None, d))
                self.attention_norms[i].build((None, *spatial, d))
        self.out.build((None, *spatial, d))

    def call(self, inputs, conditional_input=None, training=None):
        if inputs.shape.rank != 4:
            # Convolutions want exactly one batch axis: fold the others into it.
            h = self.call(
                _fold_batch(inputs), _fold_batch(conditional_input, inputs.shape.rank), training
            )
            return tf.nest.map_structure(lambda t: _unfold_batch(t, inputs), h)
        h = self.conv_in(inputs)
        context = None
        if conditional_input is not None:
            context = tf.cast(conditional_input, h.dtype)
            if context.shape.rank == 2:  # a vector per example, tiled over positions
                context = tf.tile(context[:, None, None, :], [1, tf.shape(h)[1], tf.shape(h)[2], 1])
            context = concat_elu(context)
        for i in range(self.num_blocks):
            g = self.convs[i](concat_elu(h))
            if context is not None:
                g = g + self.contexts[i](context)
            g = concat_elu(g)
            if self.dropouts:
                g = self.dropouts[i](g, training=training)
            h = self.norms[i](h + _glu(self.gates[i](g)))
            if self.attentions:
                h = self.attention_norms[i](h + self._gated_attention(i, h))
        return _split_outputs(self.out(h), self.num_outputs)

    def _gated_attention(self, i, h):
        shape = tf.shape(h)
        sequence = tf.reshape(h, [shape[0], shape[1] * shape[2], self.hidden_units])
        sequence = sequence + _positions(shape[1] * shape[2], self.hidden_units, h.dtype)
        attended = self.attentions[i](sequence, sequence)
        return tf.reshape(_glu(self.attention_gates[i](attended)), shape)

    def get_config(self):
        return {
            **super().get_config(),
            "output_channels": self.output_channels,
            "num_outputs": self.num_outputs,
            "hidden_units": self.hidden_units,
            "num_blocks": self.num_blocks,
            "attention": self.attention,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "conditional_shape": self.conditional_shape,
        }
