"""The embedded `digits` data set: scikit-learn's bundled 8x8 handwritten digits, as TFDS.

Source: the test part of the UCI "Optical Recognition of Handwritten Digits" set
(Alpaydin & Kaynak, 1998), shipped inside scikit-learn (`sklearn.datasets.load_digits`),
so it needs no download and no file: 1,797 images of 8x8 pixels, labels 0-9.

Grey levels: each pixel counts the set pixels of a 4x4 block of the original 32x32
bitmap, an integer `v` in 0..16 (17 levels). It is stored as uint8
`round(v * 255 / 16)`, so 0 -> 0, 8 -> 128 (127.5 rounded half to even gives 128),
16 -> 255 and the 17 levels are evenly spread over 0..255. Models then see the same
8-bit range as on MNIST; note the data only occupy 17 of the 256 bins, so bits/dim on
`digits` is not comparable with MNIST numbers.

Splits (fixed, not shuffled, so the writers of the test part are mostly unseen): of the
first 1,437 images (80 %), `train` = the first 1,294 and `validation` = the last 143
(`tfflows.data.splits.validation_size`); `test` = the last 360 images — the sizes of
`sklearn.model_selection.train_test_split(test_size=0.2)`.
"""

import numpy as np
import tensorflow_datasets as tfds

from tfflows.data.splits import validation_size

__all__ = ["Digits", "digits_arrays", "DIGITS_SPLITS"]

# Split name -> slice of the 1,797 images in scikit-learn's order.
_TRAIN, _ALL = 1437, 1797
_VALIDATION_START = _TRAIN - validation_size(_TRAIN)
DIGITS_SPLITS = {
    "train": slice(0, _VALIDATION_START),
    "validation": slice(_VALIDATION_START, _TRAIN),
    "test": slice(_TRAIN, _ALL),
}


def digits_arrays(split="train"):
    """Returns `(images [N, 8, 8, 1] uint8, labels [N] int64)` of a `digits` split."""
    if split not in DIGITS_SPLITS:
        raise ValueError(f"split must be one of {tuple(DIGITS_SPLITS)}, got {split!r}.")
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    levels = bunch.images[DIGITS_SPLITS[split]]  # float64 in 0..16
    images = np.round(levels * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return images, bunch.target[DIGITS_SPLITS[split]].astype(np.int64)


class Digits(tfds.core.GeneratorBasedBuilder):
    """TFDS builder `digits` (no download; see the module docstring for levels and splits)."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "scikit-learn's load_digits, levels 0..16 -> round(v*255/16).",
        "2.0.0": "A validation split: the last 143 of the 1,437 training images.",
    }

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(num_classes=10),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://archive.ics.uci.edu/dataset/80",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in DIGITS_SPLITS}

    def _generate_examples(self, split):
        images, labels = digits_arrays(split)
        for i in range(images.shape[0]):
            yield i, {"image": images[i], "label": int(labels[i])}
