"""Bad inputs to the Python API and the SavedModel are refused, naming the argument."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import export, models

TINY_VAE = dict(latent_dim=16, filters=(8, 16), hidden_units=32)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1)).astype(np.uint8)


@pytest.fixture(scope="module")
def vae(images):
    keras.utils.set_random_seed(0)
    return models.get("vae", (8, 8, 1), **TINY_VAE)


@pytest.fixture(scope="module")
def served(vae, tmp_path_factory):
    path = export.export_saved_model(vae, tmp_path_factory.mktemp("vae") / "saved_model")
    return tf.saved_model.load(str(path)).signatures


def _still_works(vae, images):
    assert np.all(np.isfinite(vae.log_prob(images, seed=0)))
    assert vae.decode(vae.encode(images)).shape == images.shape


BAD_IMAGES = [
    (lambda x: x.astype(np.float32), ValueError, "images must be integer"),
    (lambda x: x.astype(np.float32) / 255.0, ValueError, "images must be integer"),
    (lambda x: np.full(x.shape, np.nan, np.float32), ValueError, "images must be integer"),
    (lambda x: np.full(x.shape, 300, np.int32), tf.errors.InvalidArgumentError, "images must"),
    (lambda x: np.full(x.shape, -1, np.int64), tf.errors.InvalidArgumentError, "images must"),
    (lambda x: x[..., 0], ValueError, r"images must have shape \[N, 8, 8, 1\]"),
    (lambda x: x[:, :4], ValueError, r"images must have shape \[N, 8, 8, 1\]"),
]


@pytest.mark.parametrize("method", ["log_prob", "bits_per_dim", "encode"])
def test_bad_images_are_refused_naming_images(vae, images, method):
    for make, error, message in BAD_IMAGES:
        with pytest.raises(error, match=message):
            getattr(vae, method)(make(images))
    _still_works(vae, images)


def test_integer_images_in_range_are_the_uint8_images(vae, images):
    np.testing.assert_array_equal(
        vae.log_prob(images.astype(np.int32), seed=0), vae.log_prob(images, seed=0)
    )


def test_out_of_range_values_are_refused_inside_traced_functions(vae, images):
    traced = tf.function(
        lambda x: vae.log_prob(x, seed=0), input_signature=[tf.TensorSpec(None, tf.int32)]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"images must have pixel values"):
        traced(np.full(images.shape, 256, np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"images must have shape"):
        traced(images[..., 0].astype(np.int32))
    expected = vae.log_prob(images, seed=0)
    np.testing.assert_allclose(traced(images.astype(np.int32)), expected, rtol=1e-6)


def test_bad_latents_are_refused_naming_latents(vae, images):
    latents = vae.encode(images).numpy()
    for bad, error, message in [
        (np.zeros((2, 16, 16), np.float32), ValueError, r"latents must have shape \[N, 16\]"),
        (np.zeros((2,), np.float32), ValueError, r"latents must have shape \[N, 16\]"),
        (np.zeros((2, 8), np.float32), ValueError, r"latents must have shape \[N, 16\]"),
        (np.zeros((2, 16), np.int32), ValueError, "latents must be floats"),
        (np.where(np.arange(16) == 3, np.nan, latents), tf.errors.InvalidArgumentError, "latents"),
        (np.where(np.arange(16) == 3, np.inf, latents), tf.errors.InvalidArgumentError, "latents"),
    ]:
        with pytest.raises(error, match=message):
            vae.decode(bad)
    _still_works(vae, images)


def test_the_saved_model_refuses_bad_requests_naming_the_argument(served, vae, images):
    # Signatures bind what is fed without checking its shape: the graph checks.
    for signature in ("log_prob", "encode"):
        for bad in (images[..., 0], images[:, :4], images[None]):
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"images must have shape"):
                served[signature](images=tf.constant(bad))
    decode = served["decode"]
    latents = served["encode"](images=tf.constant(images))["latents"]
    for bad in (tf.zeros([2, 16, 16]), tf.zeros([2, 8]), tf.fill([2, 16], np.nan)):
        with pytest.raises(tf.errors.InvalidArgumentError, match="latents must"):
            decode(latents=bad)
    np.testing.assert_allclose(decode(latents=latents)["images"], vae.decode(latents), atol=1e-6)
    np.testing.assert_allclose(
        served["log_prob"](images=tf.constant(images))["log_prob"],
        vae.log_prob(images, seed=export.LOG_PROB_SEED),
        rtol=1e-6,
    )


def test_sampling_is_not_held_to_the_latents_check(images):
    # Samples decode their own latents unchecked: a flow's can overflow at high temperature.
    keras.utils.set_random_seed(0)
    model = models.get("vae", (8, 8, 1), **TINY_VAE)
    assert model.sample(3, temperature=1e30, seed=1).shape == (3, 8, 8, 1)
