"""Tests of tfflows.metrics: likelihood units, bounds and precision/recall."""

import math
import warnings

import numpy as np
import pytest
import tensorflow as tf

from tfflows import metrics


def test_uniform_density_is_exactly_n_bits_per_dim():
    d = metrics.num_dims([32, 32, 3])
    assert d == 3072
    zero = tf.zeros([4])  # log p(y) of U[-0.5, 0.5)^D
    np.testing.assert_array_equal(metrics.continuous_to_bits_per_dim(zero, d), np.full(4, 8.0))
    np.testing.assert_allclose(metrics.discrete_log_likelihood(zero, d), -d * 8 * math.log(2))
    np.testing.assert_allclose(metrics.continuous_to_bits_per_dim(zero, d, num_bits=5), 5.0)


def test_general_pixel_scale_includes_the_log_det_of_the_scaling():
    # y = x / 255 in [0, 1]: a uniform density there is log p = 0, and the log-det of the
    # scaling is -D log 255, so bits/dim = log2(255).
    bpd = metrics.continuous_to_bits_per_dim(tf.constant([0.0]), 10, pixel_scale=1 / 255)
    np.testing.assert_allclose(bpd, [math.log2(255)], rtol=1e-6)
    with pytest.raises(ValueError):
        metrics.discrete_log_likelihood(0.0, 1, pixel_scale=-1.0)


def test_bits_per_dim_of_a_known_discrete_source():
    # Pixels uniform over 2^k of the 256 levels carry k bits. The ideal density puts
    # mass 2^-k on each occupied bin of width 2^-8: p(y) = 2^(8 - k) per dimension.
    d, k = 64, 3
    log_p = tf.constant([d * (8 - k) * math.log(2.0)])
    np.testing.assert_allclose(metrics.continuous_to_bits_per_dim(log_p, d), [k], rtol=1e-6)
    # And a Monte-Carlo check of the dequantized bound against the true entropy.
    rng = np.random.default_rng(0)
    x = rng.choice(np.arange(0, 256, 2 ** (8 - k)), size=(1000, d))
    y = (x + rng.uniform(size=x.shape)) / 256 - 0.5
    occupied = np.isin(np.floor((y + 0.5) * 256), np.arange(0, 256, 2 ** (8 - k)))
    log_p = np.where(occupied, (8 - k) * math.log(2.0), -np.inf).sum(axis=1)
    np.testing.assert_allclose(np.mean(metrics.continuous_to_bits_per_dim(log_p, d)), k)


def _gaussian_log_weights(x, k, q_scale, seed=0):
    """Log-weights of z ~ N(0,1), x|z ~ N(z,1) with q(z|x) = N(x/2, q_scale^2); p(x) = N(0,2)."""
    rng = np.random.default_rng(seed)
    z = x / 2 + q_scale * rng.standard_normal((k,) + x.shape)
    log_normal = lambda v, m, s: -0.5 * ((v - m) / s) ** 2 - np.log(s * math.sqrt(2 * math.pi))  # noqa: E731
    return log_normal(z, 0, 1) + log_normal(x, z, 1) - log_normal(z, x / 2, q_scale)


def test_iw_bound_is_above_the_elbo_and_tends_to_log_p():
    x = np.linspace(-2, 2, 5)
    log_px = -0.5 * x**2 / 2 - 0.5 * np.log(2 * math.pi * 2)
    # Exact posterior N(x/2, 1/2): every weight equals p(x), both bounds are exact.
    exact = _gaussian_log_weights(x, 8, math.sqrt(0.5))
    np.testing.assert_allclose(metrics.elbo(exact).value, log_px, rtol=1e-6)
    np.testing.assert_allclose(metrics.importance_weighted_bound(exact).value, log_px, rtol=1e-6)
    # An over-dispersed q (finite-variance weights): ELBO < IW_5 < IW_5000 ~ log p(x).
    w = _gaussian_log_weights(x, 5000, 1.2)
    elbo = metrics.elbo(w).value.numpy()
    # E[IW_5] estimated over 1,000 disjoint groups of 5 samples.
    iw_small = np.mean(metrics.importance_weighted_bound(w.reshape(5, 1000, 5)).value, axis=0)
    iw_large = metrics.importance_weighted_bound(w).value.numpy()
    assert np.all(metrics.importance_weighted_bound(w[:1]).value.numpy() == w[0])  # IW_1
    assert np.all(elbo < iw_small) and np.mean(iw_small) < np.mean(iw_large)
    np.testing.assert_allclose(iw_large, log_px, atol=0.02)
    assert np.min(log_px - elbo) > 0.1


def test_tiled_iw_bound_groups_the_samples_of_each_example():
    x = tf.constant([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], tf.float64)  # N = 3 examples [2]
    seen = []

    def log_weights(tiled):
        seen.append(tiled)
        # Sample k of example n gets log-weight x_n + k: rows are sample-major.
        return tiled[:, 0] + tf.cast(tf.range(tf.shape(tiled)[0]) // 3, tf.float64)

    bound = metrics.tiled_importance_weighted_bound(log_weights, x, 4)
    assert seen[0].shape == (12, 2) and (bound.kind, bound.num_samples) == ("iw", 4)
    expected = [v + math.log(np.mean(np.exp(np.arange(4.0)))) for v in (1.0, 2.0, 3.0)]
    np.testing.assert_allclose(bound.value, expected, rtol=1e-12)


def test_log_mean_exp_is_stable_and_bounds_say_what_they_are():
    w = tf.constant([[-1e4], [-1e4 + math.log(3.0)]], tf.float64)
    np.testing.assert_allclose(metrics.log_mean_exp(w), [-1e4 + math.log(2.0)])
    iw = metrics.importance_weighted_bound(w)
    assert (iw.kind, iw.num_samples) == ("iw", 2) and str(iw).startswith("IW bound (K=2)")
    assert str(metrics.elbo(w)).startswith("ELBO")
    np.testing.assert_allclose(
        metrics.Bound(tf.constant([-10 * math.log(2.0) * 3]), "elbo", 1).bits_per_dim(10), 3.0
    )


def test_improved_precision_and_recall():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((400, 2))
    same = metrics.precision_recall(real, real)
    assert same == {"precision": 1.0, "recall": 1.0}
    far = metrics.precision_recall(real, real + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0}
    # Mode collapse: generated samples cover one half of the real mass -> precision high,
    # recall low.
    collapsed = real[real[:, 0] > 1.0] + 0.01 * rng.standard_normal((np.sum(real[:, 0] > 1.0), 2))
    pr = metrics.precision_recall(real, collapsed)
    assert pr["precision"] > 0.9 and pr["recall"] < 0.5


def test_knn_radii_are_the_kth_distance_to_another_sample():
    rng = np.random.default_rng(1)
    features = np.concatenate([rng.standard_normal((30, 5)), np.zeros((2, 5))])  # a duplicate
    distances = np.linalg.norm(features[:, None] - features[None], axis=-1)
    for k in (1, 3):
        expected = np.sort(distances, axis=1)[:, k]  # column 0: the sample itself
        np.testing.assert_allclose(metrics.knn_radii(features, k), expected, rtol=1e-10)
    assert metrics.knn_radii(features, 1)[-1] == 0.0  # its duplicate is a neighbour


def test_nonfinite_images_are_counted_and_named():
    from tfflows.metrics import NonFiniteSamplesWarning, count_nonfinite_images, warn_if_nonfinite

    images = np.zeros((5, 2, 2, 1), np.float32)
    images[1, 0, 0, 0] = np.nan
    images[3, 1, 1, 0] = np.inf
    images[3, 0, 1, 0] = -np.inf
    assert count_nonfinite_images(images) == 2
    assert count_nonfinite_images(images[:0]) == 0
    with pytest.warns(NonFiniteSamplesWarning, match="grid: 2 of 5 sampled images"):
        assert warn_if_nonfinite(images, "grid") == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_nonfinite(images[[0, 2, 4]], "grid") == 0


def test_pixel_accounting_names_the_pixels_and_bounds_the_original_ones():
    plain = metrics.pixel_accounting(-500.0, (28, 28, 1))
    assert plain["num_dims"] == 784 and "bits_per_dim_original_pixels" not in plain
    padded = metrics.pixel_accounting(-500.0, (32, 32, 1), (28, 28, 1))
    assert (padded["num_dims"], padded["original_num_dims"]) == (1024, 784)
    np.testing.assert_allclose(padded["bits_per_dim_original_pixels"], 500 / (784 * math.log(2)))
    assert "240 of them padding" in padded["pixels"]
