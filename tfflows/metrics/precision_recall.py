"""Improved precision and recall (Kynkäänniemi et al., 2019) on feature vectors.

Each set's manifold is approximated by the union of balls around its samples, the
radius of a ball being the distance to the sample's k-th nearest neighbour in the same
set (k = 3 in the paper). Then

    precision = fraction of generated samples inside the real manifold   (fidelity)
    recall    = fraction of real samples inside the generated manifold   (coverage)

Computed on the same 2048-d Inception features as FID (`inception_features`); the paper
uses VGG-16 features and 50k samples, so the numbers are comparable only within this
library. The GLF paper reports the related PRD curves (Sajjadi et al., 2018).
"""

import numpy as np

__all__ = ["precision_recall", "knn_radii"]


def _pairwise_distances(a, b, block=1024):
    """Euclidean distances `[len(a), len(b)]`, in row blocks to bound memory."""
    b_sq = np.sum(b * b, axis=1)
    out = np.empty((a.shape[0], b.shape[0]))
    for start in range(0, a.shape[0], block):
        rows = a[start : start + block]
        sq = np.sum(rows * rows, axis=1)[:, None] + b_sq[None, :] - 2.0 * rows @ b.T
        out[start : start + block] = np.sqrt(np.maximum(sq, 0.0))
    return out


def knn_radii(features, k=3):
    """Distance of each sample to its k-th nearest neighbour in the same set (self excluded)."""
    distances = _pairwise_distances(features, features)
    # Column 0 of the sorted row is the sample itself (distance 0).
    return np.partition(distances, k, axis=1)[:, k]


def _coverage(samples, manifold, radii):
    distances = _pairwise_distances(samples, manifold)
    return float(np.mean(np.any(distances <= radii[None, :], axis=1)))


def precision_recall(real_features, generated_features, k=3):
    """Returns `{"precision": p, "recall": r}` of generated vs real features `[N, d]`."""
    real = np.asarray(real_features, np.float64)
    generated = np.asarray(generated_features, np.float64)
    if min(len(real), len(generated)) <= k:
        raise ValueError(f"Each set needs more than k={k} samples.")
    return {
        "precision": _coverage(generated, real, knn_radii(real, k)),
        "recall": _coverage(real, generated, knn_radii(generated, k)),
    }
