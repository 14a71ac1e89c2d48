"""Counting generated images with a NaN or infinite pixel, and saying so.

The flows sample through bounded scales (`tfflows.layers.MultiScaleFlow`), so
a non-finite image means weights gone wrong; every place that draws samples
for a person (the trainer's grids and evaluation, `trainers.sample`,
`trainers.evaluate`) counts them and warns with the count instead of showing
NaN as black tiles.
"""

import warnings

import numpy as np

__all__ = ["NonFiniteSamplesWarning", "count_nonfinite_images", "warn_if_nonfinite"]


class NonFiniteSamplesWarning(RuntimeWarning):
    """Some generated images had a NaN or infinite pixel."""


def count_nonfinite_images(images):
    """How many images `[N, ...]` have at least one NaN or infinite value."""
    images = np.asarray(images)
    if images.ndim == 0 or images.shape[0] == 0:
        return 0
    return int(np.sum(~np.isfinite(images.reshape(images.shape[0], -1)).all(axis=1)))


def warn_if_nonfinite(images, where):
    """Counts the non-finite images of `images`, warns naming `where` if any; returns the count."""
    count = count_nonfinite_images(images)
    if count:
        warnings.warn(
            f"{where}: {count} of {len(images)} sampled images have NaN or infinite pixels",
            NonFiniteSamplesWarning,
            stacklevel=2,
        )
    return count
