"""A stride-`s` transposed convolution with a `2s x 2s` kernel, as one matmul plus shifted sums.

For DCGAN/InfoGAN decoders' last layer (GLF's Table 3: 4x4, stride 2, 64
channels to the image's 1 or 3), with "same" padding, `p = s // 2`:

  y[s i + k - p, s j + l - p, o] += sum_c h[i, j, c] K[k, l, o, c],   k, l in [0, 2s)

Writing `k = s a + b` (`a` in {0, 1}, `b` in [0, s)), the taps with the same
`(a, a')` land on the grid `s (i + a) + b - p`: a `depth_to_space` of their
products, shifted by `s a - p`. So the whole layer is one matmul
`[N*H*W, C_in] @ [C_in, 4 s^2 C_out]`, four depth-to-space's and four
shifted adds (pads and slices). On two CPU cores oneDNN's transposed
convolution took 14 ms per GLF training step for 64 -> 1 channels at 28x28
(forward and both gradients, 0.3 GFLOP: ~20 GFLOP/s); this form runs its
matmuls at full rate. Same weights and result as `keras.layers.Conv2DTranspose`
up to float rounding.
"""

import keras
import tensorflow as tf

from tfflows.layers._devices import use_cpu_formulations

__all__ = ["ShiftedConv2DTranspose", "conv_transpose_by_output_shifts"]


def conv_transpose_by_output_shifts(h, kernel, bias, strides):
    """`tf.nn.conv2d_transpose(h, kernel, [N, s H, s W, O], s, "SAME")` for a `2s x 2s` kernel.

    Args:
      h: `[N, H, W, C]` inputs.
      kernel: `[2s, 2s, O, C]`, Keras' `Conv2DTranspose` layout.
      bias: `[O]` or None.
      strides: `s`, both axes.
    """
    s = int(strides)
    size, _, cout, cin = kernel.shape
    if size != 2 * s or kernel.shape[1] != 2 * s:
        raise ValueError(f"Needs a {2 * s}x{2 * s} kernel for stride {s}, got {kernel.shape}.")
    pad = s // 2
    # [k, l, O, C] -> [C, (a, a'), (b, b', O)], k = s a + b, l = s a' + b'.
    taps = tf.reshape(kernel, [2, s, 2, s, cout, cin])
    taps = tf.reshape(tf.transpose(taps, [5, 0, 2, 1, 3, 4]), [cin, 4 * s * s * cout])
    shape = tf.shape(h)
    products = tf.matmul(tf.reshape(h, [-1, cin]), taps)
    products = tf.reshape(products, tf.concat([shape[:3], [4 * s * s * cout]], axis=0))
    out_size = tf.concat([[-1], s * shape[1:3], [cout]], axis=0)
    margin = max(pad, s - pad)
    paddings = [[0, 0], [margin, margin], [margin, margin], [0, 0]]
    parts = tf.split(products, 4, axis=-1)
    outputs = []
    for a in (0, 1):
        for a_ in (0, 1):
            grid = parts[2 * a + a_]
            grid = tf.nn.depth_to_space(grid, s) if s > 1 else grid
            # y[r] = grid[r - (s a - p)]; tf.pad/tf.slice so gradients are slices/pads.
            begin = [0, margin - (s * a - pad), margin - (s * a_ - pad), 0]
            outputs.append(tf.slice(tf.pad(grid, paddings), begin, out_size))
    out = tf.add_n(outputs)
    return out if bias is None else tf.nn.bias_add(out, bias)


@keras.saving.register_keras_serializable(package="tfflows")
class ShiftedConv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` that runs as `conv_transpose_by_output_shifts` on CPU.

    Taken when the layer is a stride-`s`, `2s x 2s`, "same", channels-last,
    undilated transposed convolution to few channels (`4 * filters <=
    input channels`), no GPU is visible and no export is being traced (see
    `tfflows.layers.portable`); otherwise Keras' own call. Weights, config and
    results are Keras'.
    """

    def _use_shifts(self, inputs):
        s = self.strides[0]
        return (
            use_cpu_formulations()
            and self.strides == (s, s)
            and self.kernel_size == (2 * s, 2 * s)
            and self.padding == "same"
            and self.data_format == "channels_last"
            and self.dilation_rate == (1, 1)
            and self.output_padding is None
            and 4 * self.filters <= inputs.shape[-1]
        )

    def call(self, inputs):
        if not self._use_shifts(inputs):
            return super().call(inputs)
        bias = tf.cast(self.bias, inputs.dtype) if self.use_bias else None
        outputs = conv_transpose_by_output_shifts(
            inputs, tf.cast(self.kernel, inputs.dtype), bias, self.strides[0]
        )
        return self.activation(outputs)
