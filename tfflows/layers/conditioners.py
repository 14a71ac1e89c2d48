"""Coupling networks: callables from the conditioning half to shift (and log-scale)."""

import functools

import keras
import tensorflow as tf

__all__ = ["ConvConditioner", "DenseConditioner"]


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


@functools.cache
def _has_gpu():
    return bool(tf.config.list_physical_devices("GPU"))


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
      conditional_channels: channels (or size) of the conditional input, 0 if none.
    """

    def __init__(
        self,
        output_channels,
        num_outputs=2,
        hidden_units=512,
        kernel_size=3,
        conditional_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_channels = int(output_channels)
        self.num_outputs = int(num_outputs)
        self.hidden_units = None if hidden_units is None else int(hidden_units)
        self.kernel_size = int(kernel_size)
        self.conditional_channels = int(conditional_channels)
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
        shape = tuple(input_shape[:-1]) + (input_shape[-1] + self.conditional_channels,)
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
        if kernel_size % 2 == 1 and kernel_size > 1 and few_outputs and not _has_gpu():
            # Many inputs to few outputs (the coupling's last layer) on CPU: see
            # `_conv_by_output_shifts`. Same weights as the Keras layer. GPUs keep
            # cuDNN's convolution, whose kernel gradient has no such weakness.
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
            "conditional_channels": self.conditional_channels,
        }


@keras.saving.register_keras_serializable(package="tfflows")
class DenseConditioner(keras.layers.Layer):
    """Fully connected coupling network for latent vectors (RealNVP; GLF, Figure 1b).

    `num_hidden_layers` ReLU layers of `hidden_units`, then a zero-initialised
    linear layer, so a new coupling is the identity. A conditional input
    `[..., d]` is concatenated to the input.

    GLF's reference code (FrEIA's `RNVPCouplingBlock` with `Linear -> ReLU ->
    BatchNorm1d` subnets) has two options here:

      - `separate_networks`: one network per output, RealNVP's separate `s`
        and `t` (the paper's "s and t are functions"), instead of one network
        with both outputs; twice the hidden weights.
      - `batch_norm`: batch normalization after every hidden ReLU (PyTorch's
        momentum 0.1 and epsilon 1e-5). In training mode the coupling then
        uses the batch's statistics and in inference mode the moving ones:
        both are bijections, but `log_prob` in training mode depends on the
        batch. The mode comes from `training=` or from the Keras call that
        encloses this one, e.g. `flow(x, training=True)`.

    On the latents of a trained GLF auto-encoder (MNIST, GLF's 4-block
    RealNVP trained 23 epochs on the fixed latents, `benchmarks/glf_latent_flow.py`)
    the test NLL was 54.35 nats with one network, 54.27 with separate ones
    and 53.71 with separate ones and batch norm.

    Args:
      output_units: units of each output (the transformed part's size).
      num_outputs: 2 for (shift, raw log-scale), 1 for a shift only.
      hidden_units: width of the hidden layers.
      num_hidden_layers: number of hidden layers (GLF: 2, i.e. 3 layers in all).
      conditional_size: size of the conditional input, 0 if none.
      separate_networks: one network per output (see above).
      batch_norm: batch normalization after the hidden layers (see above).
    """

    def __init__(
        self,
        output_units,
        num_outputs=2,
        hidden_units=64,
        num_hidden_layers=2,
        conditional_size=0,
        separate_networks=False,
        batch_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_units = int(output_units)
        self.num_outputs = int(num_outputs)
        self.hidden_units = int(hidden_units)
        self.num_hidden_layers = int(num_hidden_layers)
        self.conditional_size = int(conditional_size)
        self.separate_networks = bool(separate_networks)
        self.batch_norm = bool(batch_norm)
        num_networks = self.num_outputs if self.separate_networks else 1
        # Flat lists, network j's layers at [j * L, (j + 1) * L); the default
        # (one network) keeps the layer names and weight order of earlier versions.
        prefixes = ["" if j == 0 else f"net{j}_" for j in range(num_networks)]
        self.hidden = [
            keras.layers.Dense(
                self.hidden_units,
                activation="relu",
                name=f"{prefix}dense_{i}",
                dtype=self.dtype_policy,
            )
            for prefix in prefixes
            for i in range(self.num_hidden_layers)
        ]
        self.norms = [
            keras.layers.BatchNormalization(
                momentum=0.9, epsilon=1e-5, name=f"{prefix}batch_norm_{i}", dtype=self.dtype_policy
            )
            for prefix in (prefixes if self.batch_norm else [])
            for i in range(self.num_hidden_layers)
        ]
        units = self.output_units * (1 if self.separate_networks else self.num_outputs)
        heads = [
            keras.layers.Dense(
                units,
                kernel_initializer="zeros",
                name=f"{prefix}dense_out",
                dtype=self.dtype_policy,
            )
            for prefix in prefixes
        ]
        # `out` keeps its attribute name (the saved weights' path) from one-network versions.
        self.out, self.other_heads = heads[0], heads[1:]

    def _heads(self):
        # A method, not a property: Keras' saving walks properties and would
        # store the heads a second time under another path.
        return [self.out, *self.other_heads]

    def build(self, input_shape):
        for j, head in enumerate(self._heads()):
            shape = tuple(input_shape[:-1]) + (input_shape[-1] + self.conditional_size,)
            for i in range(self.num_hidden_layers):
                index = j * self.num_hidden_layers + i
                self.hidden[index].build(shape)
                shape = shape[:-1] + (self.hidden_units,)
                if self.norms:
                    self.norms[index].build(shape)
            head.build(shape)

    def _network(self, h, j, training):
        for i in range(self.num_hidden_layers):
            index = j * self.num_hidden_layers + i
            h = self.hidden[index](h)
            if self.norms:
                h = self.norms[index](h, training=training)
        return self._heads()[j](h)

    def call(self, inputs, conditional_input=None, training=None):
        h = inputs
        if conditional_input is not None:
            h = tf.concat([h, tf.cast(conditional_input, h.dtype)], axis=-1)
        if self.norms and h.shape.rank != 2:
            # Batch norm over all leading axes: fold them into one batch axis.
            flat = self.call(tf.reshape(h, [-1, h.shape[-1]]), training=training)
            return tf.nest.map_structure(
                lambda o: tf.reshape(o, tf.concat([tf.shape(h)[:-1], tf.shape(o)[-1:]], 0)), flat
            )
        if not self.separate_networks:
            return _split_outputs(self._network(h, 0, training), self.num_outputs)
        outputs = tuple(self._network(h, j, training) for j in range(len(self._heads())))
        return outputs if len(outputs) > 1 else outputs[0]

    def get_config(self):
        return {
            **super().get_config(),
            "output_units": self.output_units,
            "num_outputs": self.num_outputs,
            "hidden_units": self.hidden_units,
            "num_hidden_layers": self.num_hidden_layers,
            "conditional_size": self.conditional_size,
            "separate_networks": self.separate_networks,
            "batch_norm": self.batch_norm,
        }
