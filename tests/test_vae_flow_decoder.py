"""The VAE with a flow decoder: the identity start, the ELBO, the two phases, sampling, export."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import data, export, models
from tfflows.data import digits_arrays
from tfflows.layers import InvertibleConv1x1, MultiScaleFlow
from tfflows.models.gaussian import gaussian_log_prob

TINY = dict(
    latent_dim=4,
    filters=(8, 8),
    hidden_units=16,
    prior_blocks=1,
    prior_hidden_units=8,
    glow_steps=2,
    glow_hidden_units=8,
)


@pytest.fixture(scope="module")
def digits():
    return digits_arrays("train")[0]


def tiny(image_shape=(8, 8, 1), **overrides):
    keras.utils.set_random_seed(0)
    return models.get("vae_flow_decoder", image_shape, **{**TINY, **overrides})


def weights(variables):
    return [v.numpy().copy() for v in variables]


@pytest.mark.parametrize("shape, squeeze", [((8, 8, 1), True), ((8, 8, 2), False)])
def test_glow_layer_starts_as_the_identity_map(shape, squeeze):
    model = tiny(shape)
    assert model.glow_squeeze == squeeze and model.glow.squeeze == squeeze
    y = tf.random.stateless_uniform((3, *shape), [1, 2], -0.5, 0.5)
    x, log_det = model.glow.inverse_and_log_det(y)
    np.testing.assert_allclose(x, y, atol=1e-6)
    np.testing.assert_allclose(log_det, 0.0, atol=1e-6)
    # Glow's default rotation is not the identity: the option is what makes it so.
    rotated = MultiScaleFlow(shape, num_levels=1, num_steps=1, hidden_units=4, squeeze=squeeze)
    assert float(tf.reduce_max(tf.abs(rotated.inverse(y) - y))) > 1e-2


def test_identity_conv1x1_init_and_its_config():
    layer = InvertibleConv1x1(init="identity")
    layer.build((None, 2, 2, 3))
    x = tf.random.stateless_normal((2, 2, 2, 3), [3, 4])
    np.testing.assert_array_equal(layer.forward(x), x)
    clone = InvertibleConv1x1.from_config(layer.get_config())
    assert clone.init == "identity"
    with pytest.raises(ValueError, match="init"):
        InvertibleConv1x1(init="orthogonal")


@pytest.fixture(scope="module")
def phase2_f64(perturb):
    keras.utils.set_random_seed(1)
    model = models.get("vae_flow_decoder", (4, 4, 1), phase=2, dtype="float64", **TINY)
    perturb(model.trainable_variables, 0.1, seed=2)
    images = np.random.default_rng(3).integers(0, 256, (5, 4, 4, 1)).astype(np.uint8)
    return model, images


def test_glow_log_det_is_the_autodiff_jacobian(phase2_f64):
    model, images = phase2_f64
    y = model.model_space(images[:2], seed=1)
    with tf.GradientTape() as tape:
        tape.watch(y)
        x, log_det = model.glow.inverse_and_log_det(y)
    jacobian = tf.reshape(tape.batch_jacobian(x, y), [2, 16, 16])
    expected = tf.linalg.slogdet(jacobian)[1]
    assert float(tf.reduce_min(tf.abs(expected))) > 1e-3  # not volume-preserving any more
    np.testing.assert_allclose(log_det, expected, rtol=1e-9)


def test_elbo_is_the_papers_bound(phase2_f64):
    model, images = phase2_f64
    terms = model.per_example_terms(images, seed=4)
    y = model.model_space(images, seed=4)
    mean, log_scale = model.posterior(y)
    # Each image's posterior noise: stream 1 of its own seed (the image and the seed only).
    seeds = data.stream_seeds(data.example_seeds(images, 4), [1])[0]
    eps = tf.stack([tf.random.stateless_normal(mean.shape[1:], s, dtype=tf.float64) for s in seeds])
    z = mean + tf.exp(log_scale) * eps
    pixel_mean, pixel_log_scale = model.pixel_distribution(z)
    x, log_det = model.glow.inverse_and_log_det(y)
    log_p_y_given_z = gaussian_log_prob(x, pixel_mean, pixel_log_scale, 3) + log_det
    kl = gaussian_log_prob(z, mean, log_scale, 1) - model.prior.log_prob(z)
    dims = 16
    np.testing.assert_allclose(terms["kl"], kl, rtol=1e-10)
    np.testing.assert_allclose(terms["reconstruction"], -log_p_y_given_z, rtol=1e-10)
    np.testing.assert_allclose(
        terms["log_likelihood"], log_p_y_given_z - kl - dims * 8 * math.log(2.0), rtol=1e-9
    )
    # IW_64 lies above E_q[log w] (Burda et al.), here by ~0.35 nats; the expectation is
    # taken over 64 draws, since one draw's log-weight varies by ~0.9 nats.
    y = model.model_space(images, seed=6)
    elbo = np.mean([model.log_weights(y, seed=s)[0] for s in range(100, 164)])
    iw = model.log_prob(images, seed=6, num_importance_samples=64) + dims * 8 * math.log(2.0)
    assert float(tf.reduce_mean(iw)) > elbo + 0.1


def test_pixel_log_scale_is_floored_at_the_dequantization_noise(phase2_f64):
    model, _ = phase2_f64
    assert model.min_log_scale == pytest.approx(math.log(2.0**-8 / math.sqrt(12.0)))
    # Latents far out in several directions drive some pixels' raw scale to -inf.
    z = tf.constant(np.random.default_rng(0).normal(size=(16, 4)) * 1e4)
    _, log_scale = model.pixel_distribution(z)
    assert float(tf.reduce_min(log_scale)) == pytest.approx(model.min_log_scale)


def test_two_phases_train_disjoint_variables_and_phase_two_starts_where_one_ended(digits):
    model = tiny()
    model.compile(keras.optimizers.Adam(3e-3))
    train = tf.data.Dataset.from_tensor_slices(digits[:256]).batch(64, drop_remainder=True)
    glow_before = weights(model.glow.variables)
    vae_before = weights(model.encoder.variables)
    model.fit(train, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(glow_before, weights(model.glow.variables)))
    assert not all(
        np.array_equal(a, b) for a, b in zip(vae_before, weights(model.encoder.variables))
    )
    end_of_phase1 = model.per_example_terms(digits[:32], seed=3)
    model.set_phase(2)
    start_of_phase2 = model.per_example_terms(digits[:32], seed=3)
    np.testing.assert_allclose(start_of_phase2["loss"], end_of_phase1["loss"], rtol=1e-5)
    vae_after_phase1 = weights(model.encoder.variables + model.decoder.variables)
    prior_after_phase1 = weights(model.prior.variables)
    before = model.evaluate(train, verbose=0, return_dict=True)
    history = model.fit(train, epochs=3, verbose=0)
    after = model.evaluate(train, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"]  # the Glow layer sharpens the fixed VAE's density
    assert np.all(np.asarray(history.history["glow_log_det"]) != 0.0)
    for a, b in zip(vae_after_phase1, weights(model.encoder.variables + model.decoder.variables)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(prior_after_phase1, weights(model.prior.variables)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="phase"):
        model.set_phase(3)


def test_glow_phase_callback_switches_inside_one_fit(digits):
    model = tiny(vae_fraction=0.5)
    model.compile(keras.optimizers.Adam(3e-3))
    train = tf.data.Dataset.from_tensor_slices(digits[:128]).batch(64, drop_remainder=True)
    [callback] = model.training_callbacks(4)
    assert isinstance(callback, models.GlowPhase) and callback.start_epoch == 2
    history = model.fit(train, epochs=4, verbose=0, callbacks=[callback])
    assert model.phase == 2
    # A fresh Adam for phase 2: its step count restarted at the switch (2 epochs x 2 steps).
    assert int(model.optimizer.iterations) == 4
    glow_log_det = np.asarray(history.history["glow_log_det"])
    assert np.all(glow_log_det[:2] == 0.0) and np.all(glow_log_det[2:] != 0.0)


def test_the_glow_layer_trains_at_its_share_of_the_learning_rate(digits):
    batch = tf.constant(digits[:32])
    steps = []
    for scale in (0.1, 1.0):
        model = tiny(glow_learning_rate_scale=scale)
        model.initialize(batch)
        model.set_phase(2)
        optimizer = model.make_optimizer(1e-2)
        assert all(optimizer.in_group(v) for v in model.glow.trainable_variables)
        assert not any(optimizer.in_group(v) for v in model.encoder.trainable_variables)
        model.compile(optimizer)
        before = weights(model.glow.trainable_variables)
        model.train_on_batch(batch)
        after = weights(model.glow.trainable_variables)
        steps.append(max(np.abs(a - b).max() for a, b in zip(after, before)))
    # Adam's first step moves each weight by about its learning rate.
    np.testing.assert_allclose(steps, [1e-3, 1e-2], rtol=1e-3)


def test_joint_schedule_trains_every_weight_on_the_same_elbo(digits):
    batch = tf.constant(digits[:32])
    joint = tiny(schedule="joint")
    assert joint.phase == 2 and joint.phase1_fraction == 0.0
    assert joint.training_callbacks(10) == []
    assert joint.get_config()["schedule"] == "joint"
    joint.initialize(batch)
    two_phases = tiny()
    two_phases.set_weights(joint.get_weights())
    two_phases.set_phase(2)
    # The same bound; only what it trains differs (no stop-gradient on the VAE).
    np.testing.assert_allclose(
        joint.per_example_terms(batch, seed=3)["loss"],
        two_phases.per_example_terms(batch, seed=3)["loss"],
        rtol=1e-6,
    )
    joint.compile(joint.make_optimizer(1e-2))
    parts = (joint.encoder, joint.decoder, joint.prior, joint.glow)
    before = [weights(part.trainable_variables) for part in parts]
    joint.train_on_batch(batch)
    for part, old in zip(parts, before):
        new = weights(part.trainable_variables)
        assert not all(np.array_equal(a, b) for a, b in zip(old, new)), part.name
    clone = models.VAEFlowDecoder.from_config(joint.get_config())
    assert clone.schedule == "joint" and clone.phase == 2


@pytest.mark.parametrize("schedule", ["jointly", "", None, 2])
def test_a_bad_schedule_is_rejected_by_name(schedule):
    with pytest.raises(ValueError, match="schedule"):
        tiny(schedule=schedule)
    joint = tiny(schedule="joint")
    with pytest.raises(ValueError, match="joint.*phase 2 only"):
        joint.set_phase(1)
    assert joint.phase == 2 and np.all(np.isfinite(joint.sample(2, seed=1)))


@pytest.mark.parametrize("scale", [0, -0.1, float("nan"), "0.1", True])
def test_a_bad_glow_learning_rate_scale_is_rejected_by_name(scale):
    with pytest.raises(ValueError, match="glow_learning_rate_scale"):
        tiny(glow_learning_rate_scale=scale)
    model = tiny(glow_learning_rate_scale=0.5)
    assert model.get_config()["glow_learning_rate_scale"] == 0.5
    assert np.all(np.isfinite(model.sample(2, seed=1)))


def test_sampling_temperature_acts_in_the_glow_layer(perturb):
    model = tiny(phase=2)
    perturb(model.glow.trainable_variables, 0.05, seed=1)
    a = model.sample(3, seed=5)
    assert a.shape == (3, 8, 8, 1) and a.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0
    np.testing.assert_array_equal(a, model.sample(3, seed=5))
    assert not np.array_equal(a, model.sample(3, seed=6))
    # T = 0: f^-1 of the decoder mean of the same prior sample.
    z = model.prior.sample(2, seed=tf.constant(7, tf.int64))
    np.testing.assert_allclose(model.sample(2, temperature=0.0, seed=7), model.decode(z), atol=1e-6)
    assert model.encode(np.zeros((2, 8, 8, 1), np.uint8)).shape == (2, 4)


def test_keras_file_and_saved_model_keep_the_phase(
    digits, tmp_path, serve_with_tensorflow_only, perturb
):
    model = tiny(phase=2)
    perturb(model.glow.trainable_variables, 0.05, seed=2)
    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert restored.phase == 2
    images = digits[:4]
    np.testing.assert_allclose(
        restored.log_prob(images, seed=3), model.log_prob(images, seed=3), rtol=1e-6
    )
    export.export_saved_model(model, tmp_path / "saved_model", max_samples=8)
    out = serve_with_tensorflow_only(tmp_path / "saved_model", images)
    assert out["modules"] == []
    assert {"sample", "log_prob", "encode", "decode"} <= set(out["signatures"])
    np.testing.assert_allclose(
        out["log_prob"]["log_prob"], model.log_prob(images, seed=0), rtol=1e-5
    )
    np.testing.assert_allclose(out["sample"], model.sample(3, 0.7, seed=5), atol=1e-5)
    np.testing.assert_allclose(out["decoded"], model.decode(model.encode(images)), atol=1e-5)


def test_phase_two_under_mirrored_strategy_with_xla(digits, mirrored_strategy):
    with mirrored_strategy.scope():
        model = tiny(phase=2)
        model.compile(keras.optimizers.Adam(1e-3), jit_compile=True)
    vae = weights(model.encoder.variables)
    ds = tf.data.Dataset.from_tensor_slices(digits[:64]).batch(32, drop_remainder=True)
    history = model.fit(ds, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()
    for variable in model.trainable_variables:
        first, second = (v.numpy() for v in variable.value.values)
        np.testing.assert_array_equal(first, second)
    for a, b in zip(vae, weights(model.encoder.variables)):
        np.testing.assert_array_equal(a, b)


def test_initialize_calibrates_the_decoder_and_a_short_run_learns(digits):
    """The decoder starts at the mean image with scales at its RMS error, and 10 epochs learn.

    With scales of ~1 at the start (before `initialize` calibrated them) the
    same run scored 7.75 bits/dim, reconstructions further from the images
    than their mean image, and noise for samples.
    """
    keras.utils.set_random_seed(0)
    model = models.get("vae_flow_decoder", digits.shape[1:], preset="small")
    model.initialize(digits[:256])
    y = model.model_space(digits[:256], seed=0)
    mean_image = tf.reduce_mean(y, axis=0)
    np.testing.assert_allclose(model.decoder_offset.numpy(), mean_image.numpy(), atol=1e-6)
    _, log_scale = model.pixel_distribution(model.encode(digits[:256]))
    rms = math.sqrt(float(tf.reduce_mean(tf.square(y - mean_image))))
    assert abs(float(tf.reduce_mean(log_scale)) - math.log(rms)) < 0.3
    model.compile(model.make_optimizer(1e-3))
    batches = tf.data.Dataset.from_tensor_slices(digits).shuffle(2000, seed=0).batch(64)
    model.fit(batches, epochs=10, verbose=0)
    assert float(tf.reduce_mean(model.bits_per_dim(digits[:512], seed=0))) < 7.5


def test_isotropic_decoder_has_one_scale_trained_in_phase_one(digits):
    model = tiny(decoder_variance="isotropic")
    model.initialize(digits[:64])
    assert model.decoder.layers[-1].bias.shape == (1,)  # means only
    _, log_scale = model.pixel_distribution(model.encode(digits[:8]))
    assert float(tf.math.reduce_std(log_scale)) < 1e-6  # one scale for every pixel
    assert any(v is model.decoder_raw_log_scale for v in model.optimized_variables())
    before = float(model.decoder_raw_log_scale)
    model.compile(model.make_optimizer(1e-2))
    model.fit(tf.data.Dataset.from_tensor_slices(digits[:128]).batch(32), epochs=1, verbose=0)
    assert float(model.decoder_raw_log_scale) != before
    clone = models.VAEFlowDecoder.from_config(model.get_config())
    assert clone.decoder_variance == "isotropic" and tiny().decoder_raw_log_scale is None
    with pytest.raises(ValueError, match="decoder_variance must be 'diagonal' or 'isotropic'"):
        tiny(decoder_variance="full")
    assert tiny().decoder.layers[-1].bias.shape == (2,)  # still builds after the error


def test_sample_pair_is_figure_4(digits):
    """The same latents: the VAE's mean image, and the sample through the Glow layer."""
    model = tiny(phase=2)
    model.initialize(digits[:64])
    for variable in model.glow.trainable_variables:  # a Glow layer that is not the identity
        variable.assign(variable + 0.05 * tf.random.stateless_normal(variable.shape, [1, 2]))
    vae_images, samples = model.sample_pair(4, temperature=0.0, seed=3)
    np.testing.assert_array_equal(samples, model.sample(4, temperature=0.0, seed=3))
    z = model.prior.sample(4, seed=tf.constant(3, tf.int64))
    np.testing.assert_allclose(
        vae_images, model.dequantize.to_unit_interval(model.pixel_distribution(z)[0]), atol=1e-6
    )
    assert np.max(np.abs(vae_images - samples)) > 1e-3  # the Glow layer changes them
    model.set_phase(1)
    vae_images, samples = model.sample_pair(4, temperature=0.0, seed=3)
    np.testing.assert_allclose(vae_images, samples, atol=1e-6)  # no Glow layer in phase 1
