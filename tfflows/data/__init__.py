"""Data sets for tfflows: loading, preprocessing and dequantization.

Entry point: `load(name, split, ...)` returns a `tf.data.Dataset` of uint8 images
`[H, W, C]` (optionally with labels, n-bit reduced, padded, scaled, dequantized, batched).
`dataset_fn` adapts it to `strategy.distribute_datasets_from_function`.

Names: `digits` (embedded, no download: scikit-learn's 8x8 digits, see
`tfflows.data.digits`), `mnist`, `fashion_mnist` (TFDS online; offline from the IDX
`.gz` files in `manual_dir`), `cifar10`, `celeb_a` (160x160 centre crop -> 64x64).
Importing this package registers the TFDS builders `digits`, `mnist_idx` and
`fashion_mnist_idx`, so plain `tfds.load` can use them too.

Model space (shared with `tfflows.metrics.likelihood`): `y = (x + u) / 2^n - 0.5`.
"""

from tfflows.data.dequantization import (
    example_seeds,
    per_example_noise,
    stream_seeds,
    uniform_dequantize,
)
from tfflows.data.digits import DIGITS_SPLITS, Digits, digits_arrays
from tfflows.data.idx import IDX_FILES, FashionMnistIdx, MnistIdx, read_idx, read_idx_split
from tfflows.data.loading import NAMES, dataset_fn, load, resolve_builder_name
from tfflows.data.preprocessing import (
    SCALES,
    center_crop_resize,
    pad_images,
    reduce_bits,
    scale_images,
)

__all__ = [
    "DIGITS_SPLITS",
    "IDX_FILES",
    "NAMES",
    "SCALES",
    "Digits",
    "FashionMnistIdx",
    "MnistIdx",
    "center_crop_resize",
    "dataset_fn",
    "digits_arrays",
    "example_seeds",
    "load",
    "pad_images",
    "per_example_noise",
    "read_idx",
    "read_idx_split",
    "reduce_bits",
    "resolve_builder_name",
    "scale_images",
    "stream_seeds",
    "uniform_dequantize",
]
