"""A fully connected layer with its kernel stored `[units, input_dim]` (PyTorch's `nn.Linear`).

  y = x W^T + b,   W: [units, input_dim]

The same function as `keras.layers.Dense` with the kernel transposed. The
layout matters for speed on CPUs, not for the maths: for a wide input (GLF's
encoder, 6272 -> 1024 at batch 256, two cores) oneDNN's matmul runs
`x @ W^T` in 20 ms and `x @ K` with Dense's `[input_dim, units]` kernel in
38 ms; the backward matmuls take the same time either way. On GPUs both
layouts run the same cuBLAS call with a transpose flag.
"""

import keras
import tensorflow as tf

__all__ = ["Linear"]


@keras.saving.register_keras_serializable(package="tfflows")
class Linear(keras.layers.Layer):
    """`y = activation(x W^T + b)` over the last axis, `W` of shape `[units, input_dim]`.

    Args:
      units: output features.
      activation: a Keras activation (None: linear).
      use_bias: add `b`.
      kernel_initializer, bias_initializer: Keras initializers. Glorot and
        He initializers read the fans from the shape; Glorot's is symmetric in
        them and so draws as Dense's would.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel", shape=(self.units, input_dim), initializer=self.kernel_initializer
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)
            if self.use_bias
            else None
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        kernel = tf.cast(self.kernel, inputs.dtype)
        if len(inputs.shape) == 2:
            outputs = tf.matmul(inputs, kernel, transpose_b=True)
        else:
            outputs = tf.tensordot(inputs, kernel, [[-1], [1]])
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, inputs.dtype))
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
