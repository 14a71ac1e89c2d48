"""Tests of FID: the Fréchet distance, the Keras FID Inception against the reference
implementation (numbers in testdata/fid_reference.json), inputs and weight errors.

The network tests need the weights in the cache (`python -m tfflows.metrics.fid_weights`,
run by CI before the tests); they try to fetch them and skip only if that fails.
"""

import json
import pathlib
import zipfile

import numpy as np
import pytest
import tensorflow as tf

from tfflows import metrics
from tfflows.metrics import fid_weights

TESTDATA = pathlib.Path(__file__).parent / "testdata"
REFERENCE = json.loads((TESTDATA / "fid_reference.json").read_text())


def _load_reference_sets():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ref", TESTDATA / "fid_reference_torch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def digits_small():
    return _load_reference_sets().image_sets()["digits_small"]


@pytest.fixture(scope="module")
def digits_stats(inception_weights, digits_small):
    real, generated = digits_small
    kwargs = dict(batch_size=16, weights_path=inception_weights, verbose=False)
    return (
        metrics.feature_statistics(real, **kwargs),
        metrics.feature_statistics(generated, **kwargs),
    )


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(0)
    # Diagonal covariances: FID = |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2.
    a, b = rng.uniform(0.5, 2.0, 16), rng.uniform(0.5, 2.0, 16)
    m1, m2 = rng.standard_normal(16), rng.standard_normal(16)
    want = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    np.testing.assert_allclose(metrics.frechet_distance(m1, np.diag(a), m2, np.diag(b)), want)
    # Commuting full covariances (same eigenvectors): the same formula in that basis.
    q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    np.testing.assert_allclose(metrics.frechet_distance(m1, s1, m2, s2), want, rtol=1e-8)
    # Estimated from samples of the two Gaussians, it converges to the closed form.
    x1 = m1 + rng.standard_normal((20000, 16)) * np.sqrt(a)
    x2 = m2 + rng.standard_normal((20000, 16)) * np.sqrt(b)
    s_1, s_2 = (
        metrics.FeatureStatistics.from_features(x1),
        metrics.FeatureStatistics.from_features(x2),
    )
    got = metrics.frechet_distance(s_1.mu, s_1.sigma, s_2.mu, s_2.sigma)
    np.testing.assert_allclose(got, want, rtol=0.05)


def test_features_match_the_reference_network(inception_weights, digits_small):
    want = np.load(TESTDATA / "fid_reference_features.npy")
    got = metrics.inception_features(
        digits_small[0][: len(want)], weights_path=inception_weights, verbose=False
    )
    assert got.shape == want.shape == (len(want), 2048)
    np.testing.assert_allclose(got, want, atol=2e-3 * np.abs(want).max())


def test_fid_agrees_with_the_reference_within_half_a_percent(digits_stats):
    real, generated = digits_stats
    got = metrics.frechet_distance(real.mu, real.sigma, generated.mu, generated.sigma)
    want = REFERENCE["sets"]["digits_small"]["fid_reference"]
    assert abs(got - want) <= 0.005 * want, (got, want)


def test_fid_is_symmetric_and_zero_for_a_set_with_itself(digits_stats):
    real, generated = digits_stats
    # "eigh" gives the sqrtm trace several times faster (checked equal below and on random
    # matrices in test_eigh_and_sqrtm_agree); the reference test above uses sqrtm.
    forward = metrics.frechet_inception_distance(real, generated, method="eigh")
    backward = metrics.frechet_inception_distance(generated, real, method="eigh")
    np.testing.assert_allclose(forward, backward, rtol=1e-6)
    want = REFERENCE["sets"]["digits_small"]["fid_reference"]
    assert abs(forward - want) <= 0.005 * want
    assert abs(metrics.frechet_inception_distance(real, real, method="eigh")) < 1e-3 * forward


def test_eigh_and_sqrtm_agree():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((10, 40)), rng.standard_normal((30, 40)) * 2 + 1
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)  # singular, as with few images
    m1, m2 = a.mean(0), b.mean(0)
    np.testing.assert_allclose(
        metrics.frechet_distance(m1, s1, m2, s2, method="eigh"),
        metrics.frechet_distance(m1, s1, m2, s2),
        rtol=1e-6,
    )
    with pytest.raises(ValueError):
        metrics.frechet_distance(m1, s1, m2, s2, method="svd")


def test_inputs_datasets_tensors_saved_model_and_cache(inception_weights, digits_small, tmp_path):
    images = digits_small[0][:6]
    kwargs = dict(weights_path=inception_weights, verbose=False)
    from_array = metrics.inception_features(images, batch_size=4, **kwargs)
    labelled = tf.data.Dataset.from_tensor_slices((images, np.arange(6)))
    np.testing.assert_allclose(
        metrics.inception_features(labelled, batch_size=4, **kwargs), from_array, atol=1e-4
    )
    # Float images in model space [-0.5, 0.5) give the same features as the uint8 ones.
    as_float = tf.constant(images, tf.float32) / 255.0 - 0.5
    np.testing.assert_allclose(
        metrics.inception_features(as_float, value_range=(-0.5, 0.5), **kwargs),
        from_array,
        atol=1e-3,
    )

    # Images from a SavedModel's `sample` signature.
    class Sampler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_samples")])
        def sample(self, num_samples):
            rgb = tf.image.grayscale_to_rgb(tf.constant(images))
            return {"images": tf.tile(rgb, [num_samples // 6, 1, 1, 1])}

    tf.saved_model.save(
        Sampler(), str(tmp_path / "sampler"), signatures={"sample": Sampler().sample}
    )
    sample = tf.saved_model.load(str(tmp_path / "sampler")).signatures["sample"]
    sampled = sample(num_samples=tf.constant(6))["images"]
    assert sampled.dtype == tf.uint8 and sampled.shape == (6, 8, 8, 3)
    np.testing.assert_allclose(metrics.inception_features(sampled, **kwargs), from_array, atol=1e-4)

    # Statistics cached per data set split on disk.
    cache = tmp_path / "stats" / "digits-train-n6.npz"
    first = metrics.feature_statistics(images, cache_path=str(cache), **kwargs)
    assert cache.exists()
    second = metrics.feature_statistics(np.zeros((1, 8, 8, 1), np.uint8), cache_path=str(cache))
    np.testing.assert_array_equal(first.sigma, second.sigma)
    assert second.n == 6


def test_missing_or_wrong_weights_give_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(metrics.FidWeightsError, match="python -m tfflows.metrics.fid_weights"):
        metrics.get_fid_model(str(tmp_path / "absent.pt"))
    wrong = tmp_path / "wrong.pt"
    wrong.write_bytes(b"not the network")
    with pytest.raises(metrics.FidWeightsError, match="sha256"):
        metrics.get_fid_model(str(wrong))
    with pytest.raises(metrics.FidWeightsError, match="not a TorchScript archive"):
        fid_weights.read_torchscript_weights(str(wrong))
    with zipfile.ZipFile(tmp_path / "empty.pt", "w") as archive:
        archive.writestr("x/readme", "no pickle")
    with pytest.raises(metrics.FidWeightsError, match="no data.pkl"):
        fid_weights.read_torchscript_weights(str(tmp_path / "empty.pt"))
    # An empty cache without permission to download names the fetch command too.
    monkeypatch.setenv("TFFLOWS_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(metrics.FidWeightsError, match="TFFLOWS_CACHE_DIR"):
        metrics.fetch_fid_weights(download=False)


@pytest.mark.slow
def test_fid_mnist_against_fashion_agrees_with_the_reference(inception_weights):
    shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.exists():
        pytest.skip(f"no {shared}")
    real, generated = _load_reference_sets().image_sets(str(shared))["mnist_vs_fashion"]
    got = metrics.frechet_inception_distance(
        real, generated, weights_path=inception_weights, verbose=False
    )
    want = REFERENCE["sets"]["mnist_vs_fashion"]["fid_reference"]
    assert abs(got - want) <= 0.005 * want, (got, want)
