"""Improved precision and recall (Kynkäänniemi et al., 2019) on feature vectors.

Each set's manifold is approximated by the union of balls around its samples, the
radius of a ball being the distance to the sample's k-th nearest neighbour in the same
set (k = 3 in the paper). Then

    precision = fraction of generated samples inside the real manifold   (fidelity)
    recall    = fraction of real samples inside the generated manifold   (coverage)

Computed on the same 2048-d Inception features as FID (`inception_features`); the paper
uses VGG-16 features and 50k samples, so the numbers are comparable only within this
library. The GLF paper reports the related PRD curves (Sajjadi et al., 2018).

The distances are scikit-learn's: `NearestNeighbors` for the radii, and
`pairwise_distances_chunked` (memory bounded by its working memory) for the
coverage, whose balls have one radius per manifold sample, which no
nearest-neighbour query answers directly.
"""

import numpy as np

__all__ = ["precision_recall", "knn_radii"]


def knn_radii(features, k=3):
    """Distance of each sample to its k-th nearest neighbour in the same set (self excluded)."""
    # Imported here: scikit-learn is slow to import, and only the metrics need it.
    from sklearn.neighbors import NearestNeighbors

    features = np.asarray(features, np.float64)
    # Queried without points, each indexed sample is not its own neighbour.
    distances, _ = NearestNeighbors(n_neighbors=k).fit(features).kneighbors()
    return distances[:, k - 1]


def _coverage(samples, manifold, radii):
    """Fraction of `samples` within `radii[j]` of some `manifold[j]`."""
    from sklearn.metrics import pairwise_distances_chunked

    def inside(chunk, start):
        del start
        return np.any(chunk <= radii[None, :], axis=1)

    chunks = pairwise_distances_chunked(samples, manifold, reduce_func=inside)
    return float(np.mean(np.concatenate(list(chunks))))


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
