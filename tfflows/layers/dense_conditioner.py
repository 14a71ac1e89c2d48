"""A fully connected coupling network: the conditioning half to shift (and log-scale)."""

import keras
import tensorflow as tf

from tfflows.layers.flow import as_conditional_shape, conditional_units

__all__ = ["DenseConditioner"]


def _split_outputs(h, num_outputs):
    return tuple(tf.split(h, num_outputs, axis=-1)) if num_outputs > 1 else h


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
      conditional_shape: shape `(d,)` of one example's conditional input, or None.
      separate_networks: one network per output (see above).
      batch_norm: batch normalization after the hidden layers (see above).
    """

    def __init__(
        self,
        output_units,
        num_outputs=2,
        hidden_units=64,
        num_hidden_layers=2,
        conditional_shape=None,
        separate_networks=False,
        batch_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_units = int(output_units)
        self.num_outputs = int(num_outputs)
        self.hidden_units = int(hidden_units)
        self.num_hidden_layers = int(num_hidden_layers)
        self.conditional_shape = as_conditional_shape(conditional_shape)
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
            shape = tuple(input_shape[:-1]) + (
                input_shape[-1] + conditional_units(self.conditional_shape),
            )
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
            "conditional_shape": self.conditional_shape,
            "separate_networks": self.separate_networks,
            "batch_norm": self.batch_norm,
        }
