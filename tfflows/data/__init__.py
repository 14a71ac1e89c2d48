"""Data sets for tfflows: loading, preprocessing and dequantization.

Entry point: `load(name, split, ...)` returns a `tf.data.Dataset` of uint8 images
`[H, W, C]` (optionally with labels, n-bit reduced, padded, scaled, dequantized, batched).
`dataset_fn` adapts it to `strategy.distribute_datasets_from_function`.

Names (`NAMES`): `digits` (embedded, no download: scikit-learn's 8x8 digits, see
`tfflows.data.digits`), `mnist`, `fashion_mnist` (offline from the IDX `.gz` files in
`data_dir` or `manual_dir`; from TFDS only with `download=True`), `cifar10`, `celeb_a`
(160x160 centre crop -> 64x64). Importing this package registers the TFDS builders
`digits`, `mnist_idx` and `fashion_mnist_idx`, so plain `tfds.load` can use them too.

Splits: `train`, `validation`, `test`. `validation` is held out of the published training
split (the last 5,000 of MNIST's 60,000, see `tfflows.data.splits`) and `train` is the
rest, so models are selected on `validation` and reported on `test`; `split_size` counts
a split's images.

Missing data: `check_available(name, data_dir)` (made by `load` first) raises a one-line
`DataNotFoundError` naming the directory and the files expected; nothing downloads
without `download=True`. A damaged IDX file is named in a `ValueError`, and the prepared
copy of the IDX files is rebuilt when they change (`tfflows.data.idx`).

Model space (shared with `tfflows.metrics.likelihood`): `y = (x + u) / 2^n - 0.5`.
"""

from tfflows.data.availability import NAMES, DataNotFoundError, check_available
from tfflows.data.dequantization import (
    example_seeds,
    per_example_noise,
    stream_seeds,
    uniform_dequantize,
    variational_seeds,
)
from tfflows.data.digits import DIGITS_SPLITS, Digits, digits_arrays
from tfflows.data.idx import (
    IDX_FILES,
    IDX_SOURCES,
    FashionMnistIdx,
    MnistIdx,
    read_idx,
    read_idx_split,
    source_fingerprint,
)
from tfflows.data.loading import dataset_fn, load, resolve_builder_name, split_size
from tfflows.data.preprocessing import (
    SCALES,
    center_crop_resize,
    pad_images,
    reduce_bits,
    scale_images,
)
from tfflows.data.splits import VALIDATION_MAX, resolve_split, validation_size

__all__ = [
    "DIGITS_SPLITS",
    "IDX_FILES",
    "IDX_SOURCES",
    "NAMES",
    "SCALES",
    "VALIDATION_MAX",
    "DataNotFoundError",
    "Digits",
    "FashionMnistIdx",
    "MnistIdx",
    "center_crop_resize",
    "check_available",
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
    "resolve_split",
    "scale_images",
    "source_fingerprint",
    "split_size",
    "stream_seeds",
    "uniform_dequantize",
    "validation_size",
    "variational_seeds",
]
