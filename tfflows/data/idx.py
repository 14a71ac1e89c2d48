"""Reader for the IDX files of MNIST and Fashion-MNIST, and TFDS builders that use it offline.

IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian header
`0x00 0x00 <dtype code> <ndim>`, then `ndim` big-endian int32 sizes, then the raw
row-major array. The MNIST files are gzip-compressed, dtype code 0x08 (uint8), magic
2051 for images `[N, 28, 28]` and 2049 for labels `[N]`.

The builders `mnist_idx` and `fashion_mnist_idx` read the four original `.gz` files
from TFDS's *manual* directory, so machines without internet can prepare the same
images and labels that TFDS's `mnist` / `fashion_mnist` would download (the files are
byte-identical to the ones TFDS checksums)::

    import tfflows.data  # registers the builders
    tfds.load("mnist_idx", split="test", download_and_prepare_kwargs={
        "download_config": tfds.download.DownloadConfig(manual_dir="/path/to/mnist")})

Splits: `train` is the first 55,000 images of the training file, `validation` its last
5,000 (for other file sizes `tfflows.data.splits.validation_size`), `test` the t10k file.

The prepared copy is tied to the source files: their sizes and SHA-256 are recorded next
to it (`idx_sources.json`). When `download_and_prepare` is given a `manual_dir` whose
files differ, the stale copy is deleted and prepared again (with one warning), after
checking that every new file reads; a damaged file is named in a `ValueError`.
"""

import gzip
import json
import logging
import os
import zlib

import numpy as np
import tensorflow_datasets as tfds

from tfflows.checksums import sha256_of_file
from tfflows.data.splits import validation_size

__all__ = [
    "IDX_FILES",
    "IDX_SOURCES",
    "FashionMnistIdx",
    "MnistIdx",
    "read_idx",
    "read_idx_split",
    "source_fingerprint",
]

# File split name -> (images file, labels file), as published.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# Data set name -> where its IDX files are published.
IDX_SOURCES = {
    "mnist": "http://yann.lecun.com/exdb/mnist/",
    "fashion_mnist": "https://github.com/zalandoresearch/fashion-mnist",
}
SOURCES_RECORD = "idx_sources.json"  # in the prepared copy's directory

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_log = logging.getLogger(__name__)


def read_idx(path):
    """Reads one IDX file (gzip-compressed if its name ends in `.gz`) into a numpy array.

    Raises:
      ValueError: naming `path`: a damaged gzip stream (truncated, bad CRC), not a valid
        IDX header, or a payload of the wrong size.
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise ValueError(
            f"{path}: damaged file ({type(error).__name__}: {error}); download it again."
        ) from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path}: not an IDX file (header bytes {data[:4]!r}).")
    ndim = data[3]
    shape = tuple(int(s) for s in np.frombuffer(data, ">i4", count=ndim, offset=4))
    dtype = np.dtype(_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - offset != expected:
        raise ValueError(
            f"{path}: header announces shape {shape} ({expected} bytes) "
            f"but the payload has {len(data) - offset} bytes."
        )
    return np.frombuffer(data, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_split(directory, split):
    """Returns `(images [N, 28, 28, 1] uint8, labels [N] int64)` of one split of a directory.

    `split`: `"train"` (the training file without its last `validation_size` images),
    `"validation"` (those last images) or `"test"`.
    """
    if split not in ("train", "validation", "test"):
        raise ValueError(f"split must be 'train', 'validation' or 'test', got {split!r}.")
    images_file, labels_file = IDX_FILES["test" if split == "test" else "train"]
    images = read_idx(os.path.join(directory, images_file))
    labels = read_idx(os.path.join(directory, labels_file))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}: {images.shape[0]} images but {labels.shape[0]} labels.")
    images, labels = images[..., None], labels.astype(np.int64)
    if split == "test":
        return images, labels
    start = images.shape[0] - validation_size(images.shape[0])
    part = {"train": slice(0, start), "validation": slice(start, None)}[split]
    return images[part], labels[part]


_HASHES = {}  # (path, size, mtime) -> sha256: hash each file version once per process


def source_fingerprint(directory):
    """`{file name: {"size": bytes, "sha256": hex}}` of the four IDX files of a directory."""
    fingerprint = {}
    for name in sum(IDX_FILES.values(), ()):
        path = os.path.join(directory, name)
        stat = os.stat(path)
        key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
        if key not in _HASHES:
            _HASHES[key] = sha256_of_file(path)
        fingerprint[name] = {"size": stat.st_size, "sha256": _HASHES[key]}
    return fingerprint


def _recorded_fingerprint(prepared_dir):
    try:
        with open(os.path.join(prepared_dir, SOURCES_RECORD)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class _IdxBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Shared code of the offline MNIST-style builders (features as in TFDS's own)."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Read from the original IDX .gz files in the manual directory.",
        "2.0.0": "A validation split (the training file's last 5,000); train is the rest.",
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Put the four original files (" + ", ".join(sum(IDX_FILES.values(), ())) + ") in the "
        "manual directory, e.g. pass `manual_dir=` to `tfflows.data.load`."
    )
    _DESCRIPTION = ""
    _CLASS_NAMES = None

    def _info(self):
        return self.dataset_info_from_configs(
            description=self._DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(28, 28, 1)),
                    "label": tfds.features.ClassLabel(names=self._CLASS_NAMES),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def download_and_prepare(self, *, download_config=None, **kwargs):
        """TFDS's preparation, redone when the IDX files in `manual_dir` changed."""
        manual_dir = getattr(download_config, "manual_dir", None)
        if manual_dir is None:  # nothing to compare with: TFDS's usual reuse
            return super().download_and_prepare(download_config=download_config, **kwargs)
        sources = source_fingerprint(manual_dir)
        if self.is_prepared():
            recorded = _recorded_fingerprint(self.data_dir)
            if recorded == sources:
                return None
            changed = sorted(f for f in sources if (recorded or {}).get(f) != sources[f])
            for split in ("train", "test"):  # a damaged new file stops us before the copy goes
                read_idx_split(manual_dir, split)
            _log.warning(
                "%s: %s in %s differ from the copy prepared in %s; preparing it again.",
                self.name, ", ".join(changed), manual_dir, self.data_dir,
            )  # fmt: skip
            self.data_path.rmtree()
        super().download_and_prepare(download_config=download_config, **kwargs)
        with open(os.path.join(self.data_dir, SOURCES_RECORD), "w") as f:
            json.dump(sources, f, indent=1)
        return None

    def _split_generators(self, dl_manager):
        splits = ("train", "validation", "test")
        return {split: self._generate_examples(dl_manager.manual_dir, split) for split in splits}

    def _generate_examples(self, directory, split):
        images, labels = read_idx_split(directory, split)
        for i in range(images.shape[0]):
            yield i, {"image": images[i], "label": int(labels[i])}


class MnistIdx(_IdxBuilder):
    """MNIST (LeCun et al., 1998) from its IDX files; TFDS name `mnist_idx`."""

    _DESCRIPTION = "MNIST digits: 55,000 train, 5,000 validation, 10,000 test, read offline."
    _CLASS_NAMES = [str(i) for i in range(10)]


class FashionMnistIdx(_IdxBuilder):
    """Fashion-MNIST (Xiao et al., 2017) from its IDX files; TFDS name `fashion_mnist_idx`."""

    _DESCRIPTION = "Fashion-MNIST: 55,000 train, 5,000 validation, 10,000 test, read offline."
    _CLASS_NAMES = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
