"""SavedModel export: signatures, equality after reload, TensorFlow-only serving, validation."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import export, models
from tfflows.data import digits_arrays

TINY = {
    "glow": dict(num_levels=2, num_steps=2, hidden_units=16, seed=0),
    "vae": dict(latent_dim=8, filters=(8, 16), hidden_units=32),
}


@pytest.fixture(scope="module", params=["glow", "vae"])
def exported(request, tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = models.get(request.param, (8, 8, 1), **TINY[request.param])
    images = digits_arrays("test")[0][:6]
    model.initialize(images)
    path = tmp_path_factory.mktemp(request.param) / "saved_model"
    export.export_saved_model(model, path, max_samples=16)
    return model, path, images


def test_reloaded_signatures_equal_the_model(exported):
    model, path, images = exported
    loaded = tf.saved_model.load(str(path))
    expected = {"sample", "log_prob", "metadata", "serving_default"}
    if model.latent_shape is not None:
        expected |= {"encode", "decode"}
    assert set(loaded.signatures) == expected
    metadata = loaded.signatures["metadata"]()
    assert metadata["likelihood_kind"].numpy().decode() == model.likelihood_kind
    assert tuple(metadata["image_shape"].numpy()) == model.image_shape
    out = loaded.signatures["log_prob"](images=tf.constant(images))
    reference = model.log_prob(images, seed=export.LOG_PROB_SEED)
    np.testing.assert_allclose(out["log_prob"], reference, rtol=1e-6)
    np.testing.assert_allclose(out["bits_per_dim"], model.bits_per_dim(images, seed=0), rtol=1e-6)
    for batch in (1, 4):  # unknown batch size
        assert loaded.signatures["log_prob"](images=tf.constant(images[:batch]))[
            "log_prob"
        ].shape == (batch,)
    kwargs = dict(
        num_samples=tf.constant(4), temperature=tf.constant(0.5), seed=tf.constant(7, tf.int64)
    )
    served = loaded.signatures["sample"](**kwargs)["images"]
    np.testing.assert_allclose(served, model.sample(4, 0.5, seed=7), atol=1e-6)
    np.testing.assert_array_equal(served, loaded.signatures["serving_default"](**kwargs)["images"])
    if model.latent_shape is not None:
        latents = loaded.signatures["encode"](images=tf.constant(images))["latents"]
        np.testing.assert_allclose(latents, model.encode(images), rtol=1e-5, atol=1e-6)
        decoded = loaded.signatures["decode"](latents=latents)["images"]
        np.testing.assert_allclose(decoded, model.decode(latents), atol=1e-6)


def test_serves_with_tensorflow_only(exported, serve_with_tensorflow_only):
    model, path, images = exported
    served = serve_with_tensorflow_only(path, images)
    assert served["modules"] == []
    assert served["metadata"]["likelihood_kind"] == model.likelihood_kind
    np.testing.assert_allclose(
        served["log_prob"]["log_prob"], model.log_prob(images, seed=0), rtol=1e-6
    )
    np.testing.assert_allclose(served["sample"], model.sample(3, 0.7, seed=5), atol=1e-6)


def test_saved_model_cli_lists_predict_signatures(exported):
    _, path, _ = exported
    cli = pathlib.Path(sys.executable).with_name("saved_model_cli")
    result = subprocess.run(
        [str(cli), "show", "--dir", str(path), "--all"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("sample", "log_prob", "serving_default"):
        assert f"signature_def['{name}']" in result.stdout
    assert result.stdout.count("Method name is: tensorflow/serving/predict") >= 3
    for tensor in ("num_samples", "temperature", "seed", "images", "bits_per_dim"):
        assert tensor in result.stdout


def test_invalid_requests_are_rejected_and_the_model_keeps_serving(exported):
    model, path, images = exported
    loaded = tf.saved_model.load(str(path))
    sample = loaded.signatures["sample"]

    def request(num_samples=2, temperature=1.0):
        return sample(
            num_samples=tf.constant(num_samples, tf.int32),
            temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(1, tf.int64),
        )["images"]

    for bad, message in [
        (dict(num_samples=0), "num_samples must be at least 1"),
        (dict(num_samples=17), "num_samples must be at most 16"),
        (dict(temperature=-0.5), "temperature must be a finite number >= 0"),
        (dict(temperature=float("nan")), "temperature must be a finite number"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            request(**bad)
        assert request().shape == (2, 8, 8, 1)  # still serving
    log_prob = loaded.signatures["log_prob"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty images"):
        log_prob(images=tf.zeros([0, 8, 8, 1], tf.uint8))
    # The signature declares uint8 [None, 8, 8, 1]: TF Serving rejects other
    # dtypes before the graph runs (in-process calls cast instead).
    spec = log_prob.structured_input_signature[1]["images"]
    assert spec.dtype == tf.uint8 and spec.shape.as_list() == [None, 8, 8, 1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="images must have shape"):
        log_prob(images=tf.zeros([2, 4, 4, 1], tf.uint8))
    assert log_prob(images=tf.constant(images))["log_prob"].shape == (6,)
