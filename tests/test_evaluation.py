"""`tfflows.training.evaluate`: bits/dim, FID, the real-statistics cache and non-finite samples."""

import math
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import data, metrics, models
from tfflows.metrics import fid
from tfflows.training import (
    evaluate,
    reconstruction_fid,
    sample_fid,
    select_temperature,
    temperature,
)


@pytest.fixture
def counted_features(monkeypatch):
    """A cheap stand-in for the Inception features that counts the images it sees.

    The tests here are about what `evaluate` feeds to FID and caches, not about
    the network (tests/test_fid.py checks that against the reference).
    """
    seen = []

    def features(images, batch_size=50, **kwargs):
        rows = []
        for batch in fid._batches(images, batch_size):
            pixels = tf.reshape(tf.cast(batch, tf.float64), [batch.shape[0], -1]).numpy()
            rows.append(np.stack([pixels.mean(1), pixels.std(1), pixels[:, :32].mean(1)], 1))
        seen.append(sum(len(r) for r in rows))
        return np.concatenate(rows)

    monkeypatch.setattr(fid, "inception_features", features)
    return seen


@pytest.fixture(scope="module")
def vae():
    keras.utils.set_random_seed(0)
    return models.get("vae", (8, 8, 1), latent_dim=4, filters=(8, 8), hidden_units=16)


def test_bits_per_dim_is_the_mean_log_likelihood_of_the_first_examples(vae):
    results = evaluate(vae, "digits", "test", max_examples=30, batch_size=16, verbose=False)
    assert results["num_examples"] == 30 and results["likelihood"] == "elbo"
    assert "fid" not in results
    assert results["bits_per_dim"] == pytest.approx(
        -results["log_likelihood"] / (64 * math.log(2.0)), rel=1e-6
    )


def test_real_statistics_are_cached_per_split_and_example_count(vae, counted_features, tmp_path):
    def run(max_examples):
        return evaluate(
            vae,
            "digits",
            "test",
            max_examples=max_examples,
            num_fid_samples=20,
            batch_size=20,
            fid_cache_dir=str(tmp_path),
            verbose=False,
        )

    first = run(20)
    assert counted_features == [20, 20]  # the real images, then the samples
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits-test-pad0-first20.npz"]
    assert first["nonfinite_samples"] == 0 and np.isfinite(first["fid"])
    assert run(20)["fid"] == pytest.approx(first["fid"], rel=1e-12)
    assert counted_features == [20, 20, 20]  # the real statistics came from the cache
    # Another real set (more examples) must not reuse the first one's statistics.
    run(40)
    assert counted_features[-2:] == [40, 20]
    assert (tmp_path / "digits-test-pad0-first40.npz").exists()


def test_nonfinite_samples_are_counted(vae, counted_features, monkeypatch):
    original = vae.sample

    def sample_with_overflow(num_samples, temperature=1.0, seed=None):
        images = original(num_samples, temperature, seed=seed)
        bad = tf.constant([np.nan, np.inf] + [0.0] * (num_samples - 2), images.dtype)
        return images + tf.reshape(bad, [-1, 1, 1, 1])

    monkeypatch.setattr(vae, "sample", sample_with_overflow)
    with pytest.warns(metrics.NonFiniteSamplesWarning, match="2 of 20 sampled images"):
        results = evaluate(
            vae, "digits", "test", max_examples=20, num_fid_samples=20, batch_size=20, verbose=False
        )
    assert results["nonfinite_samples"] == 2
    assert np.isfinite(results["fid"])


def test_temperature_sweep_reuses_the_real_statistics(vae, counted_features, tmp_path):
    common = dict(max_examples=20, batch_size=20, fid_cache_dir=str(tmp_path), verbose=False)
    full = evaluate(vae, "digits", "test", num_fid_samples=20, seed=5, **common)
    sweep = [
        sample_fid(vae, "digits", "test", num_samples=20, temperature=t, seed=5, **common)
        for t in (1.0, 0.5)
    ]
    assert counted_features == [20, 20, 20, 20]  # real images once, then three sample sets
    assert sweep[0]["fid"] == pytest.approx(full["fid"], rel=1e-12)  # same samples, same FID
    assert [r["temperature"] for r in sweep] == [1.0, 0.5]
    assert sweep[1]["fid"] != pytest.approx(sweep[0]["fid"], rel=1e-6)


def test_reconstructions_are_decoded_codes_of_the_first_images(vae, counted_features, tmp_path):
    common = dict(max_examples=20, batch_size=16, fid_cache_dir=str(tmp_path), verbose=False)
    result = reconstruction_fid(vae, "digits", "test", num_images=20, **common)
    assert result["num_reconstructions"] == 20 and np.isfinite(result["reconstruction_fid"])
    assert counted_features == [20, 20]  # the real images, then the reconstructions
    images = next(iter(data.load("digits", "test", batch_size=20))).numpy()
    decoded = np.asarray(vae.decode(vae.encode(images)))
    expected = np.mean((decoded - images / 255.0) ** 2)
    assert result["reconstruction_mse"] == pytest.approx(expected, rel=1e-5)
    # The same real statistics as the samples' FID: the cache is shared.
    sample_fid(vae, "digits", "test", num_samples=20, **common)
    assert counted_features == [20, 20, 20]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits-test-pad0-first20.npz"]


def test_reconstruction_fid_needs_a_latent_space():
    glow = models.get("glow", (8, 8, 1), preset="small", num_levels=1)
    with pytest.raises(ValueError, match="Glow has no latent space"):
        reconstruction_fid(glow, "digits", "test", num_images=4, verbose=False)


def test_padded_evaluation_says_which_pixels_bits_per_dim_is_over():
    keras.utils.set_random_seed(0)
    glow = models.get("glow", (16, 16, 1), num_steps=1, hidden_units=8)
    results = evaluate(glow, "digits", "test", pad_to=16, max_examples=8, batch_size=8)
    assert (results["num_dims"], results["original_num_dims"]) == (256, 64)
    np.testing.assert_allclose(
        results["bits_per_dim_original_pixels"], results["bits_per_dim"] * 256 / 64, rtol=1e-6
    )


class ImagesAtOneTemperature:
    """Samples that are the validation images at T = 0.5 and grow noisier away from it."""

    def __init__(self):
        self.images = next(iter(data.load("digits", "validation", batch_size=40))).numpy() / 255.0

    def sample(self, num_samples, temperature=1.0, seed=None):
        noise = np.random.default_rng(seed).uniform(size=self.images[:num_samples].shape)
        weight = abs(float(temperature) - 0.5)
        return (1.0 - weight) * self.images[:num_samples] + weight * noise


def test_select_temperature_chooses_on_validation(counted_features, tmp_path):
    common = dict(max_examples=40, batch_size=40, fid_cache_dir=str(tmp_path), verbose=False)
    choice = select_temperature(
        ImagesAtOneTemperature(), "digits", [1.0, 0.0, 0.5, 0.8], num_samples=40, **common
    )
    assert choice["temperature"] == 0.5 and choice["split"] == "validation"
    fids = choice["fid_at_temperature"]
    assert list(fids) == [1.0, 0.0, 0.5, 0.8] and min(fids.values()) == fids[0.5]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits-validation-pad0-first40.npz"]


def test_select_temperature_never_chooses_a_nonfinite_fid(monkeypatch):
    scores = {0.5: float("nan"), 1.0: 7.0, 0.8: 3.0}
    monkeypatch.setattr(
        temperature, "sample_fid", lambda m, d, s, temperature, **k: {"fid": scores[temperature]}
    )
    assert select_temperature(None, "digits", [0.5, 1.0, 0.8])["temperature"] == 0.8
    scores.update({1.0: float("inf"), 0.8: float("nan")})
    with pytest.raises(ValueError, match="No temperature gave a finite FID"):
        select_temperature(None, "digits", [0.5, 1.0, 0.8])


@pytest.mark.parametrize(
    "temperatures, culprit",
    [
        ([], "empty"),
        ([0.5, -1.0], "-1.0"),
        ([float("nan")], "nan"),
        (["0.5"], "'0.5'"),
        ([True], "True"),
        ("0.5", "'0.5'"),
        (None, "None"),
    ],
)
def test_select_temperature_rejects_bad_candidates_by_name(vae, temperatures, culprit):
    with pytest.raises(ValueError, match=f"temperatures.*{re.escape(culprit)}"):
        select_temperature(vae, "digits", temperatures, num_samples=4, verbose=False)
    with pytest.raises(ValueError, match="split='test'"):
        select_temperature(vae, "digits", [1.0], split="test", num_samples=4, verbose=False)
    assert np.all(np.isfinite(vae.sample(2, 0.5, seed=1)))  # the model still samples
