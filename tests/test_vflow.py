"""VFlow: q(z|y) against the autodiff Jacobian, the bound, training, sampling, export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import export, models
from tfflows.data import digits_arrays
from tfflows.models.gaussian import standard_normal_log_prob

F64 = tf.float64
TINY = dict(
    num_steps=1,
    hidden_units=8,
    posterior_steps=1,
    posterior_hidden_units=8,
    context_channels=2,
    context_hidden_units=4,
    seed=0,
)


@pytest.fixture(scope="module")
def digits():
    return digits_arrays("train")[0]


def tiny_vflow(image_shape=(8, 8, 1), **overrides):
    keras.utils.set_random_seed(0)
    return models.get("vflow", image_shape, **{**TINY, **overrides})


@pytest.fixture(scope="module")
def vflow64(perturb):
    keras.utils.set_random_seed(2)
    model = models.get("vflow", (4, 4, 1), augmented_channels=2, dtype="float64", **TINY)
    images = np.random.default_rng(2).integers(0, 256, (8, 4, 4, 1)).astype(np.uint8)
    model.initialize(images)
    perturb(model.trainable_variables, 0.1, seed=3)
    return model, images


def test_posterior_log_density_is_the_change_of_variables_of_the_autodiff_jacobian(vflow64):
    model, images = vflow64
    y = model.model_space(images[:3], seed=3)
    u = model._noise(3, 3)
    assert u.dtype == F64 and u.shape == (3, 4, 4, 2)
    with tf.GradientTape() as tape:
        tape.watch(u)
        z, log_q = model.posterior_sample(y, u)
    jacobian = tf.reshape(tape.batch_jacobian(z, u), [3, 32, 32])
    log_det = tf.linalg.slogdet(jacobian)[1]
    assert float(tf.reduce_min(tf.abs(log_det))) > 1e-3  # the perturbed q is not volume-preserving
    np.testing.assert_allclose(log_q, standard_normal_log_prob(u, 3) - log_det, rtol=1e-9)
    # q is conditional: another image gives another z for the same u.
    other, _ = model.posterior_sample(tf.reverse(y, [0]), u)
    assert float(tf.reduce_max(tf.abs(other - z))) > 1e-3
    # The same z read back through q's data direction: one density, both ways.
    np.testing.assert_allclose(model.posterior_flow.log_prob(z, model.context(y)), log_q, rtol=1e-9)


def test_bound_is_log_joint_minus_log_q_and_below_the_iw_bound(vflow64):
    model, images = vflow64
    terms = model.per_example_terms(images, seed=4)
    y = model.model_space(images, seed=4)
    # Each image's noise: its own stream-1 seed, from the image and the seed only.
    z, log_q = model.posterior_sample(y, model._noise(8, model.noise_seeds(images, 4)))
    log_joint = model.flow.log_prob(tf.concat([y, z], axis=-1))
    dims = 16
    np.testing.assert_allclose(terms["joint_nll"], -log_joint, rtol=1e-10)
    np.testing.assert_allclose(terms["posterior_log_prob"], log_q, rtol=1e-10)
    np.testing.assert_allclose(
        terms["log_likelihood"], log_joint - log_q - dims * 8 * np.log(2.0), rtol=1e-10
    )
    np.testing.assert_allclose(terms["loss"], -terms["log_likelihood"] / (dims * np.log(2.0)))
    # E_q[log w] <= IW_8 <= IW_64 <= log p(y) (Burda et al.), the expectation over 64 draws.
    y = model.model_space(images, seed=5)
    elbo = np.mean([model.log_weights(y, model._noise(8, s))[0] for s in range(100, 164)])
    offset = dims * 8 * np.log(2.0)
    iw8, iw64 = (
        float(tf.reduce_mean(model.log_prob(images, seed=5, num_importance_samples=k))) + offset
        for k in (8, 64)
    )
    assert elbo < iw8 < iw64


def test_new_posterior_is_standard_normal_and_the_joint_flow_sees_z(vflow64, perturb):
    """A fresh q(z|y) is N(0, I): its couplings start at zero, its 1x1 convolutions are
    rotations and its actnorms the identity. The joint density depends on z."""
    model = tiny_vflow((4, 4, 1), augmented_channels=2)
    y = model.model_space(vflow64[1][:3], seed=1)
    u = model._noise(3, 1)
    z, log_q = model.posterior_sample(y, u)
    np.testing.assert_allclose(log_q, standard_normal_log_prob(z, 3), rtol=1e-5)
    perturb(model.flow.trainable_variables, 0.1, seed=4)
    joint = model.flow.log_prob(tf.concat([y, z], -1))
    moved = model.flow.log_prob(tf.concat([y, z + 0.5], -1))
    assert float(tf.reduce_max(tf.abs(joint - moved))) > 1e-2


def test_fit_lowers_the_bound_and_real_images_beat_noise(digits):
    model = tiny_vflow(hidden_units=16, posterior_hidden_units=16)
    model.initialize(digits[:128])
    model.compile(keras.optimizers.Adam(3e-3))
    train = tf.data.Dataset.from_tensor_slices({"image": digits[:512]}).batch(
        64, drop_remainder=True
    )
    before = model.evaluate(train, verbose=0, return_dict=True)
    history = model.fit(train, epochs=3, verbose=0)
    after = model.evaluate(train, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"] - 0.2
    assert set(model.terms) | {"bits_per_dim"} <= set(history.history)
    np.testing.assert_allclose(after["loss"], after["bits_per_dim"], rtol=1e-5)
    noise = np.random.default_rng(0).integers(0, 256, digits[:64].shape).astype(np.uint8)
    real = float(tf.reduce_mean(model.log_prob(digits[:64], seed=1)))
    assert real > float(tf.reduce_mean(model.log_prob(noise, seed=1)))
    # q learned something: it is no longer N(0, I).
    y = model.model_space(digits[:8], seed=1)
    z, log_q = model.posterior_sample(y, model._noise(8, 1))
    assert float(tf.reduce_max(tf.abs(log_q - standard_normal_log_prob(z, 3)))) > 1e-2


def test_sampling_shapes_seeds_and_mode(perturb):
    model = tiny_vflow(augmented_channels=3)
    perturb(model.flow.trainable_variables, 0.05, seed=1)
    a = model.sample(3, seed=5)
    assert a.shape == (3, 8, 8, 1) and a.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0
    np.testing.assert_array_equal(a, model.sample(3, seed=5))
    assert not np.array_equal(a, model.sample(3, seed=6))
    # T = 0: the image channels of the flow's mode f(0).
    mode = model.flow.forward(tf.zeros([2, 8, 8, 4]))[..., :1]
    np.testing.assert_allclose(
        model.sample(2, temperature=0.0, seed=5), tf.clip_by_value(mode + 0.5, 0, 1), atol=1e-6
    )


def test_config_defaults_and_errors():
    model = models.get("vflow", (8, 8, 3), preset="small")
    assert model.augmented_channels == 3  # the slides' 3 -> 6 channels
    assert model.flow.event_shape == (8, 8, 6) and model.posterior_flow.event_shape == (8, 8, 3)
    assert model.num_levels == 3 and model.likelihood_kind == "elbo"
    clone = models.VFlow.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    with pytest.raises(ValueError, match="augmented_channels"):
        models.get("vflow", (8, 8, 1), augmented_channels=0)


def test_saved_model_serves_with_tensorflow_only(
    digits, tmp_path, serve_with_tensorflow_only, perturb
):
    model = tiny_vflow()
    model.initialize(digits[:64])
    perturb(model.trainable_variables, 0.02, seed=2)
    images = digits[:4]
    export.export_saved_model(model, tmp_path / "saved_model", max_samples=8)
    out = serve_with_tensorflow_only(tmp_path / "saved_model", images)
    assert out["modules"] == []
    assert {"sample", "log_prob", "metadata"} <= set(out["signatures"])
    assert "encode" not in out["signatures"]  # no latent space of the image's own
    assert out["metadata"]["likelihood_kind"] == "elbo"
    np.testing.assert_allclose(
        out["log_prob"]["log_prob"], model.log_prob(images, seed=0), rtol=1e-5
    )
    np.testing.assert_allclose(out["sample"], model.sample(3, 0.7, seed=5), atol=1e-5)


def test_keras_file_round_trip_and_xla_under_mirrored_strategy(
    digits, tmp_path, mirrored_xla_fit_and_keras_round_trip
):
    mirrored_xla_fit_and_keras_round_trip(tiny_vflow, digits, tmp_path / "vflow.keras")
