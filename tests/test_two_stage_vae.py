"""Dai & Wipf's two-stage VAE: the bound of each phase, the phases, sampling, saving, export."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import data, export, models

TINY = dict(latent_dim=4, filters=(8, 8), hidden_units=16, stage2_hidden_units=8)


@pytest.fixture(scope="module")
def digits():
    return digits_images()


def digits_images():
    return data.digits_arrays("train")[0]


def tiny(image_shape=(8, 8, 1), **overrides):
    keras.utils.set_random_seed(0)
    return models.get("two_stage_vae", image_shape, **{**TINY, **overrides})


def weights(variables):
    return [v.numpy().copy() for v in variables]


def stage1_variables(model):
    return [*model.encoder.variables, *model.decoder.variables] + [
        model.log_decoder_scale,
        model.decoder_offset,
    ]


def log_normal(x, mean, log_scale):
    """`log N(x; mean, exp(log_scale)^2)` summed over all axes but the first, in NumPy."""
    x, mean = np.asarray(x, np.float64), np.asarray(mean, np.float64)
    log_scale = np.broadcast_to(np.asarray(log_scale, np.float64), x.shape)
    per_dim = -0.5 * ((x - mean) / np.exp(log_scale)) ** 2 - log_scale - 0.5 * math.log(2 * math.pi)
    return per_dim.reshape(len(x), -1).sum(axis=1)


def kl_standard(mean, log_scale):
    mean, log_scale = np.asarray(mean), np.asarray(log_scale)
    return 0.5 * np.sum(mean**2 + np.exp(2 * log_scale) - 1 - 2 * log_scale, axis=1)


def row_normals(seeds, dim):
    return np.stack([tf.random.stateless_normal([dim], s, dtype=tf.float64) for s in seeds])


@pytest.fixture(scope="module")
def phase2_f64(perturb):
    keras.utils.set_random_seed(1)
    model = models.get("two_stage_vae", (4, 4, 1), phase=2, dtype="float64", **TINY)
    perturb(model.trainable_variables, 0.1, seed=2)
    images = np.random.default_rng(3).integers(0, 256, (5, 4, 4, 1)).astype(np.uint8)
    return model, images


@pytest.mark.parametrize("phase", [1, 2])
def test_loss_is_minus_the_elbo_per_dim(phase, phase2_f64):
    model, images = phase2_f64
    model.set_phase(phase)
    terms = model.per_example_terms(images, seed=4)
    y = model.model_space(images, seed=4).numpy()
    mean, log_scale = (t.numpy() for t in model.posterior(y))
    # z: stream 1 of each image's seed; u: that seed with its first word's low bit flipped.
    seeds = data.stream_seeds(data.example_seeds(images, 4), [1])[0].numpy()
    z = mean + np.exp(log_scale) * row_normals(seeds, 4)
    log_p_y = log_normal(y, model.decoder_mean(z), model.log_decoder_scale.numpy())
    kl = kl_standard(mean, log_scale)
    if phase == 2:
        u_mean, u_log_scale = (t.numpy() for t in model.stage2_posterior(z))
        u = u_mean + np.exp(u_log_scale) * row_normals(seeds ^ np.array([1, 0]), 4)
        log_p_z = log_normal(z, model.stage2_decoder_mean(u), model.log_stage2_scale.numpy())
        stage2_kl = kl_standard(u_mean, u_log_scale)
        np.testing.assert_allclose(terms["stage2_reconstruction"], -log_p_z, rtol=1e-10)
        np.testing.assert_allclose(terms["stage2_kl"], stage2_kl, rtol=1e-10)
        # KL(q1 || N(0, I)) less stage 2's gain over N(0, I): E_q1[log q1(z|y) - ELBO_2(z)].
        kl = kl - (log_p_z - stage2_kl - log_normal(z, 0.0, 0.0))
    else:
        np.testing.assert_array_equal(terms["stage2_reconstruction"], 0.0)
    dims = 16
    np.testing.assert_allclose(terms["reconstruction"], -log_p_y, rtol=1e-10)
    np.testing.assert_allclose(terms["kl"], kl, rtol=1e-9)
    log_likelihood = log_p_y - kl - dims * 8 * math.log(2.0)
    np.testing.assert_allclose(terms["log_likelihood"], log_likelihood, rtol=1e-10)
    np.testing.assert_allclose(terms["loss"], -log_likelihood / (dims * math.log(2.0)), rtol=1e-10)


def test_phase_two_bound_is_the_iw_weights_mean_and_below_the_iw_bound(phase2_f64):
    model, images = phase2_f64
    model.set_phase(2)
    draws = 128
    # The training estimate (analytic KLs) and E[log w] of `importance_log_weights`: one bound.
    elbo = tf.function(lambda s: model.per_example_terms(images, seed=s)["log_likelihood"])
    estimates = np.stack([elbo(tf.constant(s, tf.int64)) for s in range(draws)])
    y = tf.tile(model.model_space(images, seed=0), [draws, 1, 1, 1])
    seeds = tf.random.stateless_uniform([draws * 5, 2], [5, 6], 0, 2**31, dtype=tf.int64)
    log_w = model.importance_log_weights(y, seeds).numpy().reshape(draws, 5)
    log_w = log_w - 16 * 8 * math.log(2.0)
    error = np.sqrt(estimates.var() / draws + log_w.var() / draws)
    assert abs(estimates.mean() - log_w.mean()) < 4 * error, (estimates.mean(), log_w.mean())
    # IW_64 lies above the ELBO (Burda et al.).
    iw = model.log_prob(images, seed=0, num_importance_samples=64).numpy()
    assert iw.mean() > estimates.mean() + 0.1 and iw.mean() > log_w.mean() + 0.1


def test_phase_two_starts_from_phase_ones_bound(digits):
    model = tiny()
    model.initialize(digits[:64])
    end_of_phase1 = model.per_example_terms(digits[:16], seed=3)
    model.set_phase(2)
    start = model.per_example_terms(digits[:16], seed=3)
    np.testing.assert_allclose(start["loss"], end_of_phase1["loss"], rtol=1e-6)
    assert np.all(start["stage2_reconstruction"].numpy() > 0.0)
    np.testing.assert_array_equal(start["stage2_kl"], 0.0)  # q2(u|z) = p(u) exactly


@pytest.fixture(scope="module")
def phase2_run():
    """A tiny stage 1 trained 3 epochs, its latents moved off N(0, I), then 10 epochs of stage 2.

    The latents of the trained stage 1 are still close to N(0, I) (a stage-2 NLL of
    5.5 nats in 4 dimensions, 5.7 for N(0, I) data), which leaves 80 steps little to
    learn; shifted by 2 with their scale divided by e, they are what a stage 1 whose
    aggregate posterior drifted from its prior gives, and what stage 2 is for.
    """
    images = digits_images()[:512]
    train = tf.data.Dataset.from_tensor_slices(images).batch(64)
    model = tiny()
    model.initialize(images[:256])
    # Stage 1 and stage 2 between them hold every variable: "bit-identical" covers the model.
    assert len(stage1_variables(model)) + len(model.stage2_variables()) == len(model.variables)
    model.compile(keras.optimizers.Adam(3e-3))
    stage2_before_phase1 = weights(model.stage2_variables())
    model.fit(train, epochs=3, verbose=0, shuffle=False)
    stage2_after_phase1 = weights(model.stage2_variables())
    bias = model.encoder.layers[-1].bias  # [mean, log-scale] of q1(z|y)
    bias.assign(bias + np.repeat([2.0, -1.0], 4).astype(np.float32))
    model.set_phase(2)
    model.compile(keras.optimizers.Adam(3e-3))
    before = (weights(stage1_variables(model)), weights(model.stage2_variables()))
    terms_before = model.per_example_terms(images, seed=7)
    model.fit(train, epochs=10, verbose=0, shuffle=False)
    after = (weights(stage1_variables(model)), weights(model.stage2_variables()))
    terms_after = model.per_example_terms(images, seed=7)
    return dict(
        phase1=(stage2_before_phase1, stage2_after_phase1),
        weights=(before, after),
        terms=(terms_before, terms_after),
    )


def test_phase_one_leaves_stage_two_and_phase_two_stage_one_bit_identical(phase2_run):
    for a, b in zip(*phase2_run["phase1"]):
        np.testing.assert_array_equal(a, b)
    (stage1_before, stage2_before), (stage1_after, stage2_after) = phase2_run["weights"]
    for a, b in zip(stage1_before, stage1_after):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, b) for a, b in zip(stage2_before, stage2_after))


def test_a_short_phase_two_fit_lowers_the_stage_two_loss(phase2_run):
    before, after = phase2_run["terms"]

    def stage2_loss(terms):
        return float(tf.reduce_mean(terms["stage2_reconstruction"] + terms["stage2_kl"]))

    # The fixed stage 1 gives the same latents and reconstructions (same seed) ...
    np.testing.assert_array_equal(after["reconstruction"], before["reconstruction"])
    # ... and stage 2 fits them better, so the whole bound improves.
    # 11.9 -> 4.7 nats here; learning gamma_z alone leaves 9.9 (the shift stays).
    assert stage2_loss(after) < stage2_loss(before) - 5.0
    assert float(tf.reduce_mean(after["loss"])) < float(tf.reduce_mean(before["loss"]))


def test_phase_switch_inside_one_fit_restarts_adam(digits):
    model = tiny(stage1_fraction=0.5)
    model.initialize(digits[:64])
    model.compile(keras.optimizers.Adam(3e-3))
    train = tf.data.Dataset.from_tensor_slices(digits[:128]).batch(64, drop_remainder=True)
    [callback] = model.training_callbacks(4)
    assert isinstance(callback, models.PhaseSwitch) and callback.start_epoch == 2
    assert issubclass(models.GlowPhase, models.PhaseSwitch)
    stage1 = weights(stage1_variables(model))
    history = model.fit(train, epochs=4, verbose=0, shuffle=False, callbacks=[callback])
    assert model.phase == 2
    assert int(model.optimizer.iterations) == 4  # restarted at the switch: 2 epochs x 2 steps
    stage2_nll = np.asarray(history.history["stage2_reconstruction"])
    assert np.all(stage2_nll[:2] == 0.0) and np.all(stage2_nll[2:] > 0.0)
    assert not all(np.array_equal(a, b) for a, b in zip(stage1, weights(stage1_variables(model))))


def test_sampling_is_dai_and_wipfs(perturb):
    model = tiny(phase=2)
    perturb(model.stage2_variables(), 0.3, seed=1)
    a = model.sample(3, seed=5)
    assert a.shape == (3, 8, 8, 1) and a.dtype == tf.float32
    assert np.all(np.isfinite(a)) and 0.0 <= float(tf.reduce_min(a)) <= float(tf.reduce_max(a)) <= 1
    np.testing.assert_array_equal(a, model.sample(3, seed=5))
    assert not np.array_equal(a, model.sample(3, seed=6))
    # u ~ N(0, T^2 I), z = h_mu(u) + T gamma_z eps, the image g_mu(z).
    t = 0.7
    u = t * tf.random.stateless_normal([3, 4], [5, 0])
    eps = tf.random.stateless_normal([3, 4], [6, 0])
    z = model.stage2_decoder_mean(u) + t * tf.exp(model.log_stage2_scale) * eps
    np.testing.assert_allclose(model.sample(3, temperature=t, seed=5), model.decode(z), atol=1e-6)
    mode = model.decode(model.stage2_decoder_mean(tf.zeros([2, 4])))
    np.testing.assert_allclose(model.sample(2, temperature=0.0, seed=5), mode, atol=1e-6)
    # Finite whatever the weights: moved far from their start, as tests/test_finite_samples.py.
    perturb(model.trainable_variables, 0.3, seed=2)
    for temperature in (1.0, 0.7):
        assert np.isfinite(model.sample(1000, temperature=temperature, seed=3)).all()
    model.set_phase(1)  # the VAE's sampling: z ~ N(0, T^2 I)
    np.testing.assert_allclose(model.sample(2, temperature=0.0), model.decode(tf.zeros([2, 4])))
    assert model.encode(np.zeros((2, 8, 8, 1), np.uint8)).shape == (2, 4)


def test_phase_two_scores_do_not_depend_on_the_batch_or_chunks(perturb):
    model = tiny(phase=2)
    perturb(model.stage2_variables(), 0.3, seed=1)
    images = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 1)).astype(np.uint8)
    batch = model.log_prob(images, seed=0).numpy()
    np.testing.assert_allclose(model.log_prob(images[4:5], seed=0), batch[4:5], rtol=1e-6)
    iw = model.log_prob(images, seed=0, num_importance_samples=5, samples_per_chunk=5)
    chunked = model.log_prob(images[4:], seed=0, num_importance_samples=5, samples_per_chunk=2)
    np.testing.assert_allclose(chunked, iw[4:], rtol=1e-6)
    assert np.all(np.isfinite(iw))


def test_keras_file_and_saved_model_keep_the_phase(
    digits, tmp_path, serve_with_tensorflow_only, perturb
):
    model = tiny(phase=2, stage1_fraction=0.25)
    model.initialize(digits[:64])
    perturb(model.stage2_variables(), 0.1, seed=2)
    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert type(restored) is models.TwoStageVAE
    assert (restored.phase, restored.stage1_fraction) == (2, 0.25)
    images = digits[:4]
    np.testing.assert_allclose(
        restored.log_prob(images, seed=3), model.log_prob(images, seed=3), rtol=1e-6
    )
    np.testing.assert_allclose(restored.sample(3, seed=4), model.sample(3, seed=4), atol=1e-6)
    export.export_saved_model(model, tmp_path / "saved_model", max_samples=8)
    out = serve_with_tensorflow_only(tmp_path / "saved_model", images)
    assert out["modules"] == [] and out["metadata"]["likelihood_kind"] == "elbo"
    np.testing.assert_allclose(
        out["log_prob"]["log_prob"], model.log_prob(images, seed=0), rtol=1e-5
    )
    np.testing.assert_allclose(out["sample"], model.sample(3, 0.7, seed=5), atol=1e-5)
    np.testing.assert_allclose(out["latents"], model.encode(images), rtol=1e-5, atol=1e-6)


def test_phase_two_under_mirrored_strategy_with_xla(
    digits, tmp_path, mirrored_xla_fit_and_keras_round_trip
):
    check = mirrored_xla_fit_and_keras_round_trip  # replicas stay identical; .keras round trip
    model = check(lambda: tiny(phase=2), digits, tmp_path / "model.keras")
    assert model.phase == 2 and model.xla


def test_bad_arguments_are_rejected_naming_them():
    with pytest.raises(ValueError, match="phase must be 1 or 2, got 3"):
        tiny(phase=3)
    for bad in (1.5, -0.1, "half", float("nan")):
        with pytest.raises(ValueError, match="stage1_fraction must be a number in"):
            tiny(stage1_fraction=bad)
    with pytest.raises(ValueError, match="phase must be 1 or 2, got 0"):
        tiny().set_phase(0)
    with pytest.raises(ValueError, match="vae_fraction must be a number in"):
        models.get("vae_flow_decoder", (8, 8, 1), preset="small", vae_fraction=1.5)


@pytest.mark.parametrize("preset", ["default", "small"])
def test_stage_one_is_the_flow_decoder_vaes_architecture(preset):
    """Table 1 compares the priors on one VAE: the same encoder, latent size and widths."""
    two_stage = models.get("two_stage_vae", (28, 28, 1), preset=preset)
    flow_prior = models.get("vae_flow_decoder", (28, 28, 1), preset=preset)
    for name in ("latent_dim", "filters", "hidden_units"):
        assert getattr(two_stage, name) == getattr(flow_prior, name), name
    shapes = [tuple(v.shape) for v in two_stage.encoder.weights]
    assert shapes == [tuple(v.shape) for v in flow_prior.encoder.weights]
