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
"""

import gzip
import os

import numpy as np
import tensorflow_datasets as tfds

__all__ = ["read_idx", "read_idx_split", "MnistIdx", "FashionMnistIdx", "IDX_FILES"]

# Split name -> (images file, labels file), as published.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Reads one IDX file (gzip-compressed if its name ends in `.gz`) into a numpy array.

    Raises:
      ValueError: the header is not a valid IDX header or the payload has the wrong size.
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
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
    """Returns `(images [N, 28, 28, 1] uint8, labels [N] int64)` of one split of a directory."""
    images_file, labels_file = IDX_FILES[split]
    images = read_idx(os.path.join(directory, images_file))
    labels = read_idx(os.path.join(directory, labels_file))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}: {images.shape[0]} images but {labels.shape[0]} labels.")
    return images[..., None], labels.astype(np.int64)


class _IdxBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Shared code of the offline MNIST-style builders (features as in TFDS's own)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Read from the original IDX .gz files in the manual directory."}
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

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(dl_manager.manual_dir, split) for split in IDX_FILES}

    def _generate_examples(self, directory, split):
        images, labels = read_idx_split(directory, split)
        for i in range(images.shape[0]):
            yield i, {"image": images[i], "label": int(labels[i])}


class MnistIdx(_IdxBuilder):
    """MNIST (LeCun et al., 1998) from its IDX files; TFDS name `mnist_idx`."""

    _DESCRIPTION = "MNIST handwritten digits, 60,000 train and 10,000 test, read offline."
    _CLASS_NAMES = [str(i) for i in range(10)]


class FashionMnistIdx(_IdxBuilder):
    """Fashion-MNIST (Xiao et al., 2017) from its IDX files; TFDS name `fashion_mnist_idx`."""

    _DESCRIPTION = "Fashion-MNIST, 60,000 train and 10,000 test, read offline."
    _CLASS_NAMES = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
