"""Importance-weighted bounds in chunks: the one-pass value, bounded memory, any K; evaluation."""

import json
import math
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import metrics, models
from tfflows.models.base import IMPORTANCE_ROWS_PER_CHUNK
from tfflows.training import SavedModelClient, evaluate

REPO = pathlib.Path(__file__).resolve().parents[1]
LATENT_MODELS = [
    name for name in models.names() if models.model_class(name).likelihood_kind == "elbo"
]


def test_chunked_bound_is_the_one_pass_bound():
    log_weights = tf.constant(np.random.default_rng(0).normal(-1e4, 30.0, (11, 5)))
    one_pass = metrics.importance_weighted_bound(log_weights).value
    seen = []

    def chunk(first, count):
        seen.append(count)
        return log_weights[first : first + count]

    for samples_per_chunk in (1, 2, 3, 4, 11, 50):
        seen.clear()
        bound = metrics.chunked_importance_weighted_bound(chunk, 11, samples_per_chunk)
        assert (bound.kind, bound.num_samples) == ("iw", 11)
        np.testing.assert_allclose(bound.value, one_pass, rtol=1e-13)
        assert max(seen) == min(samples_per_chunk, 11) and sum(seen) == 11
    # -inf weights (impossible samples) stay -inf, as in one pass.
    minus_inf = tf.constant([[-np.inf, 0.0], [-np.inf, 1.0]], tf.float64)
    bound = metrics.chunked_importance_weighted_bound(
        lambda first, count: minus_inf[first : first + count], 2, 1
    )
    np.testing.assert_allclose(bound.value, metrics.importance_weighted_bound(minus_inf).value)


def test_chunked_bound_runs_k_4096_one_chunk_at_a_time():
    rows = []

    def chunk(first, count):
        rows.append(count)  # traced once: the loop body is one graph
        return tf.cast(first + tf.range(count), tf.float64)[:, None] * tf.ones([1, 3], tf.float64)

    bound = tf.function(lambda: metrics.chunked_importance_weighted_bound(chunk, 4096, 64))()
    expected = math.log(np.mean(np.exp(np.arange(4096.0) - 4095.0))) + 4095.0
    np.testing.assert_allclose(bound.value, [expected] * 3, rtol=1e-12)
    assert max(rows) == 64


def test_chunked_bound_rejects_bad_counts():
    with pytest.raises(ValueError, match="num_samples"):
        metrics.chunked_importance_weighted_bound(lambda f, c: None, 0, 1)
    with pytest.raises(ValueError, match="samples_per_chunk"):
        metrics.chunked_importance_weighted_bound(lambda f, c: None, 4, 0)


def small(name, images):
    keras.utils.set_random_seed(0)
    model = models.get(name, (8, 8, 1), preset="small")
    model.initialize(images)
    return model


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).integers(0, 256, (3, 8, 8, 1)).astype(np.uint8)


@pytest.mark.parametrize("name", LATENT_MODELS)
def test_iw_bound_does_not_depend_on_chunks_or_batch(name, images):
    model = small(name, images)
    one_pass = model.log_prob(images, seed=0, num_importance_samples=5, samples_per_chunk=5)
    # Chunks of 2 (a loop iteration and a remainder), for the last image alone.
    chunked = model.log_prob(images[2:], seed=0, num_importance_samples=5, samples_per_chunk=2)
    np.testing.assert_allclose(chunked, one_pass[2:], rtol=1e-6)
    assert np.all(np.isfinite(one_pass))


def test_k_4096_on_a_tiny_model_evaluates_bounded_chunks(images):
    keras.utils.set_random_seed(0)
    model = models.get("vae", (8, 8, 1), latent_dim=2, filters=(4,), hidden_units=8)
    rows = []
    weights = model.importance_log_weights

    def recording(y, seeds=None):
        rows.append(int(y.shape[0]))
        return weights(y, seeds)

    model.importance_log_weights = recording
    bound = model.log_prob(images[:2], seed=0, num_importance_samples=4096)
    assert np.all(np.isfinite(bound)) and max(rows) <= IMPORTANCE_ROWS_PER_CHUNK
    model.importance_log_weights = weights
    # Here all 4096 x 2 rows also fit in one pass: the same bound.
    one_pass = model.log_prob(
        images[:2], seed=0, num_importance_samples=4096, samples_per_chunk=4096
    )
    np.testing.assert_allclose(bound, one_pass, rtol=1e-6)


def test_bad_importance_arguments_are_rejected_and_the_model_keeps_working(images):
    vae, glow = small("vae", images), small("glow", images)
    for bad in (0, -3, 2.5, "8", True):
        with pytest.raises(ValueError, match="num_importance_samples"):
            vae.log_prob(images, seed=0, num_importance_samples=bad)
    with pytest.raises(ValueError, match="samples_per_chunk"):
        vae.log_prob(images, seed=0, num_importance_samples=4, samples_per_chunk=0)
    with pytest.raises(ValueError, match="num_importance_samples=4 needs a latent-variable"):
        glow.log_prob(images, seed=0, num_importance_samples=4)
    assert np.all(np.isfinite(vae.log_prob(images, seed=0, num_importance_samples=2)))
    assert np.all(np.isfinite(glow.log_prob(images, seed=0)))


def test_evaluate_reports_the_elbo_and_iw_side_by_side(images):
    vae = small("vae", images)
    common = dict(max_examples=6, verbose=False)
    results = evaluate(vae, "digits", "test", batch_size=4, num_importance_samples=8, **common)
    assert results["iw_num_samples"] == 8 and results["likelihood"] == "elbo"
    assert results["elbo_bits_per_dim"] == results["bits_per_dim"]
    assert np.isfinite(results["iw_bits_per_dim"])
    assert results["bounds"]["elbo_bits_per_dim"].startswith("ELBO")
    assert "K=8" in results["bounds"]["iw_bits_per_dim"]
    # Per-image noise: the batch size does not change the numbers.
    other = evaluate(vae, "digits", "test", batch_size=6, num_importance_samples=8, **common)
    np.testing.assert_allclose(other["iw_bits_per_dim"], results["iw_bits_per_dim"], rtol=1e-6)
    np.testing.assert_allclose(other["bits_per_dim"], results["bits_per_dim"], rtol=1e-6)
    plain = evaluate(vae, "digits", "test", batch_size=4, **common)
    assert "iw_bits_per_dim" not in plain and plain["bounds"]["bits_per_dim"].startswith("ELBO")


def test_evaluate_rejects_iw_where_there_is_none(images):
    with pytest.raises(ValueError, match="num_importance_samples=4 needs a latent-variable"):
        evaluate(small("glow", images), "digits", num_importance_samples=4, verbose=False)
    client = SavedModelClient.__new__(SavedModelClient)  # what a loaded export says about itself
    client.likelihood_kind, client.image_shape = "elbo", (8, 8, 1)
    with pytest.raises(ValueError, match="num_importance_samples > 1 needs the Keras model"):
        evaluate(client, "digits", num_importance_samples=4, verbose=False)
    with pytest.raises(ValueError, match="num_importance_samples must be a positive integer"):
        evaluate(client, "digits", num_importance_samples=0, verbose=False)


@pytest.fixture
def evaluate_binary(tmp_path):
    """A saved tiny VAE, and `run(*flags)` of `trainers.evaluate` on it writing `output`."""
    keras.utils.set_random_seed(0)
    model = models.get("vae", (8, 8, 1), latent_dim=2, filters=(4,), hidden_units=8)
    model.save(tmp_path / "best.keras")
    output = tmp_path / "evaluation.json"
    command = [
        sys.executable,
        "-m",
        "trainers.evaluate",
        f"--model_dir={tmp_path}",
        "--max_examples=4",
        "--fid_method=eigh",  # the references' sqrtm takes minutes at 2048-d
        f"--output={output}",
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")

    def run(*flags):
        return subprocess.run(
            command + list(flags), cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )

    return run, output


def test_evaluate_binary_writes_both_bounds(images, evaluate_binary):
    run, output = evaluate_binary
    result = run("--num_importance_samples=16", "--samples_per_chunk=4")
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["iw_num_samples"] == 16 and np.isfinite(results["iw_bits_per_dim"])
    assert set(results["bounds"]) == {"bits_per_dim", "elbo_bits_per_dim", "iw_bits_per_dim"}


def test_evaluate_binary_chooses_the_temperature_on_validation(inception_weights, evaluate_binary):
    run, output = evaluate_binary
    bad = run("--num_fid_samples=4", "--select_temperatures=0.5,-1")
    assert bad.returncode != 0 and "--select_temperatures" in bad.stderr and "-1" in bad.stderr
    assert not output.exists()
    result = run("--num_fid_samples=4", "--select_temperatures=0,1")
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(output.read_text())
    selection = results["temperature_selection"]
    assert selection["split"] == "validation" and set(selection["fid_at_temperature"]) == {
        "0.0",
        "1.0",
    }
    assert results["temperature"] == selection["temperature"]
    assert results["fid_method"] == "eigh"
    assert selection["fid_at_temperature"][str(selection["temperature"])] == min(
        selection["fid_at_temperature"].values()
    )
