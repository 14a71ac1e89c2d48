"""The shared model API on the Glow and VAE baselines: fit, likelihoods, sampling, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import models
from tfflows.data import digits_arrays

TINY = {
    "glow": dict(num_steps=2, hidden_units=16, seed=0),
    "vae": dict(latent_dim=8, filters=(8, 16), hidden_units=32),
    "vflow": dict(num_steps=1, hidden_units=8, posterior_steps=1, posterior_hidden_units=8),
}


@pytest.fixture(scope="module")
def digits():
    return digits_arrays("train")[0]


def tiny(name, image_shape=(8, 8, 1)):
    keras.utils.set_random_seed(0)
    return models.get(name, image_shape, **TINY[name])


def test_registry_presets_and_errors():
    assert {"glow", "vae"} <= set(models.names())
    small = models.get("glow", (8, 8, 1), preset="small")
    assert small.num_steps == models.preset_config("glow", "small")["num_steps"]
    assert models.get("glow", (32, 32, 3)).num_levels == 3  # Glow's default at 32x32
    assert models.get("glow", (28, 28, 1)).num_levels == 2  # 28 halves only twice
    with pytest.raises(ValueError, match="registered"):
        models.get("nope", (8, 8, 1))
    with pytest.raises(ValueError, match="presets"):
        models.get("vae", (8, 8, 1), preset="huge")


@pytest.mark.parametrize("name", ["glow", "vae"])
def test_fit_lowers_loss_and_real_images_beat_noise(name, digits):
    model = tiny(name)
    model.initialize(digits[:128])
    model.compile(keras.optimizers.Adam(2e-3))
    train = tf.data.Dataset.from_tensor_slices({"image": digits}).batch(64, drop_remainder=True)
    before = model.evaluate(train, verbose=0, return_dict=True)
    history = model.fit(train, epochs=3, verbose=0)
    after = model.evaluate(train, verbose=0, return_dict=True)
    # The VAE starts calibrated at the mean image (`VAE.initialize`): smaller early drops.
    assert after["loss"] < before["loss"] - (0.1 if name == "glow" else 0.03)
    assert set(model.terms) | {"bits_per_dim"} <= set(history.history)
    np.testing.assert_allclose(after["loss"], after["bits_per_dim"], rtol=1e-5)
    noise = np.random.default_rng(0).integers(0, 256, digits[:64].shape).astype(np.uint8)
    real = model.log_prob(digits[:64], seed=1)
    assert float(tf.reduce_mean(real)) > float(tf.reduce_mean(model.log_prob(noise, seed=1)))


@pytest.mark.parametrize("name", ["glow", "vae"])
def test_sampling_shapes_seeds_and_mode(name):
    model = tiny(name)
    a = model.sample(3, seed=5)
    assert a.shape == (3, 8, 8, 1) and a.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0
    np.testing.assert_array_equal(a, model.sample(3, seed=5))
    assert not np.array_equal(a, model.sample(3, seed=6))
    mode = model.sample(2, temperature=0.0, seed=5)
    if name == "glow":
        expected = model.dequantize.to_unit_interval(model.flow.forward(tf.zeros([2, 8, 8, 1])))
    else:
        expected = model.decode(tf.zeros([2, model.latent_dim]))
    np.testing.assert_allclose(mode, expected, atol=1e-6)


def test_vae_bounds_and_latents(digits):
    model = tiny("vae")
    x = digits[:16]
    elbo = model.log_prob(x, seed=3)
    iw = model.log_prob(x, seed=3, num_importance_samples=32)
    assert float(tf.reduce_mean(iw)) >= float(tf.reduce_mean(elbo)) - 1e-3
    assert model.likelihood_kind == "elbo"
    assert model.encode(x).shape == (16, 8)
    assert model.decode(model.encode(x)).shape == (16, 8, 8, 1)


def test_log_prob_rejects_wrong_image_shape():
    with pytest.raises(ValueError, match=r"images must have shape \[N, 8, 8, 1\]"):
        tiny("glow").log_prob(np.zeros((2, 4, 4, 1), np.uint8))


@pytest.mark.parametrize("name", ["glow", "vae"])
def test_keras_file_round_trip(name, digits, tmp_path):
    model = tiny(name)
    model.initialize(digits[:64])
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(digits[:128], batch_size=64, epochs=1, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is type(model)
    # Compiled again, with the optimizer's state (Adam's step count) restored.
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 2
    np.testing.assert_array_equal(
        restored.log_prob(digits[:8], seed=2), model.log_prob(digits[:8], seed=2)
    )
    np.testing.assert_array_equal(restored.sample(4, seed=9), model.sample(4, seed=9))


def test_xla_fit_under_mirrored_strategy_keeps_replicas_identical(digits, mirrored_strategy):
    strategy = mirrored_strategy
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = models.get("glow", (8, 8, 1), num_levels=1, num_steps=2, hidden_units=8)
        model.compile(keras.optimizers.Adam(1e-3), jit_compile=True)
    model.initialize(digits[:64])
    ds = tf.data.Dataset.from_tensor_slices(digits[:128]).batch(32, drop_remainder=True)
    history = model.fit(ds, epochs=2, verbose=0)
    assert model.xla and np.isfinite(history.history["loss"]).all()
    for variable in model.trainable_variables:
        first, second = (v.numpy() for v in variable.value.values)
        np.testing.assert_array_equal(first, second)


def test_a_short_vae_run_beats_a_uniform_density_and_the_mean_image(digits):
    """15 epochs of the small VAE on digits: under 8 bits/dim, reconstructions beat the mean.

    With Dai & Wipf's gamma = 1 at the start (before the data-dependent
    `initialize`), the same run stayed at ~9.1 bits/dim with reconstructions
    further from the images than their mean image.
    """
    keras.utils.set_random_seed(0)
    model = models.get("vae", digits.shape[1:], preset="small")
    model.initialize(digits[:256])
    model.compile(model.make_optimizer(1e-3))
    batches = tf.data.Dataset.from_tensor_slices(digits).shuffle(2000, seed=0).batch(64)
    model.fit(batches, epochs=15, verbose=0)
    images = digits[:512]
    assert float(tf.reduce_mean(model.bits_per_dim(images, seed=0))) < 7.95
    unit = images.astype(np.float32) / 255.0
    reconstruction = model.decode(model.encode(images)).numpy()
    mean_image_error = np.mean((unit - unit.mean(axis=0)) ** 2)
    assert np.mean((reconstruction - unit) ** 2) < 0.8 * mean_image_error


@pytest.mark.parametrize("name", ["vae", "glow", "vflow"])
@pytest.mark.parametrize("dtype", ["float64", "mixed_bfloat16"])
def test_keras_file_keeps_the_dtype_policy(name, dtype, digits, tmp_path):
    """A `.keras` round trip used to drop the policy (reloading as float32); every weight
    takes the model's variable dtype (Glow's flow used to be built in float32)."""
    keras.utils.set_random_seed(0)
    model = models.get(name, (8, 8, 1), dtype=dtype, **TINY[name])
    model.initialize(digits[:32])
    assert {v.dtype for v in model.trainable_weights} == {model.variable_dtype}
    assert model.sample(2, seed=1).dtype == tf.float32
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert reloaded.dtype_policy.name == dtype
    assert reloaded.log_prob(digits[:4], seed=1).dtype == model.variable_dtype
    np.testing.assert_allclose(
        reloaded.log_prob(digits[:4], seed=1), model.log_prob(digits[:4], seed=1)
    )


def test_preset_names_list_each_models_presets():
    assert models.preset_names("glow") == ["default", "small"]
    for name in models.names():
        for preset in models.preset_names(name):
            assert isinstance(models.preset_config(name, preset), dict)
