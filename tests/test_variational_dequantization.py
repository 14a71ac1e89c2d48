"""Variational dequantization (Flow++ section 3.1): q(u|x), its log-det, the bound, the models."""

import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags
from scipy.special import logsumexp

from tfflows import data, export, layers, models
from tfflows.data import digits_arrays
from tfflows.training import SavedModelClient, evaluate
from trainers.declared_flags import define_model_flags

TINY = {
    "glow": dict(num_steps=1, hidden_units=8, seed=0),
    "vflow": dict(
        num_steps=1,
        hidden_units=8,
        posterior_steps=1,
        posterior_hidden_units=8,
        context_channels=2,
        context_hidden_units=4,
        seed=0,
    ),
}
TINY_Q = dict(
    dequantization="variational",
    dequantization_steps=1,
    dequantization_hidden_units=8,
    dequantization_context_channels=2,
)


@pytest.fixture(scope="module")
def digits():
    return digits_arrays("train")[0]


def tiny(name, image_shape=(8, 8, 1), **overrides):
    keras.utils.set_random_seed(0)
    return models.get(name, image_shape, **{**TINY[name], **TINY_Q, **overrides})


# -- the layer: q(u|x) and its log-det ---------------------------------------------------------


def q_layer(num_steps, base="normal", perturb=None):
    keras.utils.set_random_seed(1)
    sizes = dict(num_bits=3, num_steps=num_steps, hidden_units=4, context_channels=2)
    layer = layers.VariationalDequantization((4, 4, 1), base=base, seed=0, dtype="float64", **sizes)
    if perturb is not None:
        perturb(layer.trainable_variables, 0.2, seed=5)
    return layer


@pytest.fixture(scope="module")
def images4():
    return np.random.default_rng(3).integers(0, 256, (3, 4, 4, 1)).astype(np.uint8)


def jacobian_log_det(layer, eps, images):
    with tf.GradientTape() as tape:
        tape.watch(eps)
        u, log_det = layer.noise_and_log_det(eps, images)
    jacobian = tf.reshape(tape.batch_jacobian(u, eps), [eps.shape[0], 16, 16])
    return u, log_det, tf.linalg.slogdet(jacobian)[1]


def test_sigmoid_log_det_is_the_autodiff_one(images4):
    layer = q_layer(num_steps=0)  # g is the identity: u = sigmoid(eps)
    eps = 3.0 * layer.base_noise(3, data.example_seeds(images4, 1))[0]
    u, log_det, autodiff = jacobian_log_det(layer, eps, images4)
    np.testing.assert_allclose(u, tf.sigmoid(eps), rtol=1e-15)
    np.testing.assert_allclose(log_det, autodiff, rtol=1e-12)
    assert float(tf.reduce_max(tf.abs(log_det))) > 10.0  # far from volume-preserving


def test_coupling_and_sigmoid_log_det_is_the_autodiff_one_and_the_inverse_agrees(images4, perturb):
    layer = q_layer(num_steps=2, perturb=perturb)
    eps, log_base = layer.base_noise(3, data.example_seeds(images4, 2))
    u, log_det, autodiff = jacobian_log_det(layer, eps, images4)
    np.testing.assert_allclose(log_det, autodiff, rtol=1e-10)
    # The couplings do something: the log-det is not the sigmoid's alone.
    sigmoid_only = tf.reduce_sum(-tf.nn.softplus(-eps) - tf.nn.softplus(eps), axis=[1, 2, 3])
    assert float(tf.reduce_min(tf.abs(log_det - sigmoid_only))) > 1e-2
    # log q(u|x) = log N(eps) - log|det du/deps|, and the inverse reads the same density.
    np.testing.assert_allclose(layer.log_prob(u, images4), log_base - log_det, rtol=1e-10)
    # q is conditional on x: another image, the same eps, another u.
    other, _ = layer.noise_and_log_det(eps, images4[::-1])
    assert float(tf.reduce_max(tf.abs(other - u))) > 1e-3
    # call: y = (x_n + u) / 2^n - 1/2 inside x's bin, with log q(u|x).
    y, log_q = layer(images4, seed=data.stream_seeds(data.example_seeds(images4, 2), [1])[0])
    bins = (images4 // 32).astype(np.float64)
    assert np.all((y + 0.5) * 8 >= bins) and np.all((y + 0.5) * 8 < bins + 1)
    np.testing.assert_allclose(layer(images4, seed=2)[1], log_q)  # an int seed: stream 1


# -- the bound ---------------------------------------------------------------------------------


def test_with_q_uniform_the_bound_is_todays_uniform_number(digits, perturb):
    """q(u|x) = U[0, 1): a logistic base through the identity and the sigmoid (its CDF).

    Then the ELBO is today's uniform-dequantization number with the same noise `U`,
    and IW_K is log mean exp of K of today's numbers: equal up to the float32 rounding
    of `sigmoid(logit(U))` against `U` (an ulp, in a few pixels), where a normal base
    is off by more than half a nat.
    """
    images = digits[:6]
    keras.utils.set_random_seed(0)
    uniform = models.get("glow", (8, 8, 1), **TINY["glow"])
    uniform.initialize(images)
    perturb(uniform.flow.trainable_variables, 0.05, seed=1)
    model = tiny("glow", dequantization_steps=0)
    model.flow.set_weights(uniform.flow.get_weights())
    normal_base = model.log_prob(images, seed=3).numpy()
    model.dequantizer = layers.VariationalDequantization(
        (8, 8, 1), num_steps=0, hidden_units=4, context_channels=2, base="logistic"
    )
    y, log_q = model.dequantizer(images, seed=3)
    np.testing.assert_array_equal(log_q, np.zeros(6))  # log Logistic(eps) - log sigmoid'(eps)

    def u_seeds(sample):  # the seeds of sample k's u: stream 1 + k, flipped
        seeds = data.stream_seeds(data.example_seeds(images, 3), [1 + sample])[0]
        return data.variational_seeds(seeds)

    def today(sample):  # the uniform model's number with those seeds
        return uniform.log_prob(images, seed=u_seeds(sample)).numpy()

    np.testing.assert_allclose(uniform.to_model_space(images, seed=u_seeds(0)), y, atol=1e-7)
    elbo = model.log_prob(images, seed=3).numpy()
    np.testing.assert_allclose(elbo, today(0), rtol=1e-6)
    assert np.all(np.abs(normal_base - elbo) > 0.5)  # q = sigmoid(N(0, I)) is not uniform
    iw = model.log_prob(images, seed=3, num_importance_samples=4).numpy()
    expected = logsumexp(np.stack([today(k) for k in range(4)]), axis=0) - math.log(4)
    np.testing.assert_allclose(iw, expected, rtol=1e-6)


def test_elbo_and_iw_bounds_lie_below_the_exact_discrete_likelihood_and_rise_with_k(perturb):
    """2x2 images of 1 bit: log P(x) = log of p over the bin, by Gauss-Legendre quadrature."""
    model = tiny("glow", (2, 2, 1), num_steps=2, num_bits=1)
    perturb(model.flow.trainable_variables, 0.3, seed=1)
    corners = np.array(list(itertools.product([0, 1], repeat=4)))[[0, 5, 10]]
    images = (corners * 128).astype(np.uint8).reshape(3, 2, 2, 1)

    def exact(nodes):
        x, w = np.polynomial.legendre.leggauss(nodes)
        u = np.stack(np.meshgrid(*[(x + 1) / 2] * 4, indexing="ij"), -1).reshape(-1, 4)
        weights = np.prod(np.stack(np.meshgrid(*[w / 2] * 4, indexing="ij"), -1), -1).ravel()
        log_p = [
            model.flow.log_prob(((c + u) / 2 - 0.5).reshape(-1, 2, 2, 1).astype(np.float32))
            for c in corners
        ]
        return logsumexp(np.float64(log_p), b=weights, axis=1) - 4 * math.log(2.0)

    log_p_exact = exact(12)
    np.testing.assert_allclose(exact(16), log_p_exact, atol=1e-4)  # converged
    # M log-weights per image, sample k from stream 1 + k as the model's own IW bound draws.
    m = 2**14
    seeds = data.stream_seeds(data.example_seeds(images, 0), 1 + tf.range(m))
    tiled = tf.tile(images, [m, 1, 1, 1])
    log_w = model.importance_log_weights(tiled, tf.reshape(seeds, [-1, 2])).numpy()
    log_w = np.float64(log_w).reshape(m, 3) - 4 * math.log(2.0)
    # The model's ELBO and IW_K are these weights' first sample and log mean exp of the first K.
    np.testing.assert_allclose(model.log_prob(images, seed=0), log_w[0], rtol=1e-5)
    iw64 = model.log_prob(images, seed=0, num_importance_samples=64)
    np.testing.assert_allclose(iw64, logsumexp(log_w[:64], axis=0) - math.log(64), rtol=1e-5)
    # E[IW_K] over M / K independent groups: ELBO = IW_1 < IW_8 < IW_64 < log P.
    expected, errors = [], []
    for k in (1, 8, 64):
        groups = logsumexp(log_w.reshape(m // k, k, 3), axis=1) - math.log(k)
        expected.append(groups.mean(0))
        errors.append(groups.std(0) / math.sqrt(m // k))
    expected, errors = np.array(expected), np.array(errors)
    # Each step up (the last one to log P) by more than 3 standard errors of the two ends.
    steps = np.diff(np.vstack([expected, log_p_exact]), axis=0)
    step_errors = errors + np.vstack([errors[1:], np.zeros((1, 3))])
    assert np.all(steps > 3 * step_errors), (expected, errors, log_p_exact)
    # Towards log P: IW_64 closes most of the ELBO's gap.
    assert np.all(log_p_exact - expected[-1] < 0.5 * (log_p_exact - expected[0]))


def test_vflow_bound_takes_log_q_u_off_its_elbo(images4, perturb):
    """log w = log p(y, z) - log q(z|y) - log q(u|x), u and z from the sample's seeds."""
    model = tiny("vflow", (4, 4, 1), augmented_channels=2, dtype="float64")
    perturb(model.trainable_variables, 0.05, seed=2)
    terms = model.per_example_terms(images4, seed=4)
    seeds = model.noise_seeds(images4, 4)
    y, log_q_u = model.dequantizer(images4, seed=seeds)
    z, log_q_z = model.posterior_sample(y, model._noise(3, seeds))
    log_joint = model.flow.log_prob(tf.concat([y, z], axis=-1))
    assert float(tf.reduce_min(tf.abs(log_q_u))) > 1.0
    np.testing.assert_allclose(terms["posterior_log_prob"], log_q_z + log_q_u, rtol=1e-10)
    np.testing.assert_allclose(
        terms["log_likelihood"], log_joint - log_q_z - log_q_u - 16 * 8 * math.log(2.0), rtol=1e-10
    )


# -- the models --------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["glow", "vflow"])
def trained(request, digits):
    name = request.param
    model = tiny(name)
    model.initialize(digits[:64])
    model.compile(keras.optimizers.Adam(3e-3))
    train = tf.data.Dataset.from_tensor_slices(digits[:256]).batch(64, drop_remainder=True)
    before = model.evaluate(train, verbose=0, return_dict=True)
    q_before = [v.numpy() for v in model.dequantizer.trainable_variables]
    model.fit(train, epochs=3, verbose=0, shuffle=False)
    after = model.evaluate(train, verbose=0, return_dict=True)
    q_after = model.dequantizer.trainable_variables
    return name, model, before, after, q_before, q_after


def test_variational_models_train_and_round_trip_through_keras_files(trained, digits, tmp_path):
    name, model, before, after, q_before, q_after = trained
    assert after["loss"] < before["loss"] - 0.2
    assert any(np.max(np.abs(a.numpy() - b)) > 1e-3 for a, b in zip(q_after, q_before))
    assert model.likelihood_kind == "elbo" and models.model_class(name).likelihood_kind in (
        "exact",
        "elbo",
    )
    model.save(tmp_path / f"{name}.keras")
    restored = keras.models.load_model(tmp_path / f"{name}.keras")
    config = restored.get_config()
    assert config["dequantization"] == "variational" and config["dequantization_steps"] == 1
    assert restored.likelihood_kind == "elbo" and restored.dequantization == "variational"
    np.testing.assert_array_equal(
        restored.log_prob(digits[:4], seed=3), model.log_prob(digits[:4], seed=3)
    )
    iw = model.log_prob(digits[:3], seed=0, num_importance_samples=5, samples_per_chunk=5)
    chunked = model.log_prob(digits[2:3], seed=0, num_importance_samples=5, samples_per_chunk=2)
    np.testing.assert_allclose(chunked, iw[2:], rtol=1e-6)


def test_exported_log_prob_is_deterministic_per_image_and_says_which_bound(
    trained, digits, tmp_path
):
    name, model, *_ = trained
    images = digits[:6]
    path = export.export_saved_model(model, tmp_path / "saved_model", max_samples=4)
    served = tf.saved_model.load(str(path)).signatures
    in_batch = served["log_prob"](images=tf.constant(images))["log_prob"].numpy()
    np.testing.assert_array_equal(in_batch, served["log_prob"](images=images)["log_prob"])
    alone = served["log_prob"](images=tf.constant(images[4:5]))["log_prob"].numpy()
    np.testing.assert_allclose(alone, in_batch[4:5], rtol=1e-6)
    reversed_ = served["log_prob"](images=tf.constant(images[::-1]))["log_prob"].numpy()
    np.testing.assert_allclose(reversed_, in_batch[::-1], rtol=1e-6)
    np.testing.assert_allclose(in_batch, model.log_prob(images, seed=0), rtol=1e-6)
    metadata = served["metadata"]()
    assert metadata["likelihood_kind"].numpy().decode() == "elbo"
    assert metadata["dequantization"].numpy().decode() == "variational"
    client = SavedModelClient(path)
    assert (client.likelihood_kind, client.dequantization) == ("elbo", "variational")


def test_evaluation_names_the_variational_bound(trained):
    _, model, *_ = trained
    common = dict(max_examples=4, batch_size=4, verbose=False)
    results = evaluate(model, "digits", "test", num_importance_samples=3, **common)
    assert (results["likelihood"], results["dequantization"]) == ("elbo", "variational")
    for name in ("bits_per_dim", "elbo_bits_per_dim", "iw_bits_per_dim"):
        assert "variationally dequantized" in results["bounds"][name]
    plain = evaluate(tiny("glow", dequantization="uniform"), "digits", "test", **common)
    assert (plain["likelihood"], plain["dequantization"]) == ("exact", "uniform")
    assert plain["bounds"]["bits_per_dim"].startswith("exact log-likelihood of the uniformly")


def test_uniform_models_are_unchanged(digits):
    model = tiny("glow", dequantization="uniform")
    assert model.dequantizer is None and model.likelihood_kind == "exact"
    assert all("dequantizer" not in v.path for v in model.weights)
    expected = model.flow.log_prob(model.to_model_space(digits[:4], seed=2)) - 64 * 8 * math.log(
        2.0
    )
    np.testing.assert_array_equal(model.log_prob(digits[:4], seed=2), expected)
    vflow = tiny("vflow", dequantization="uniform")
    assert vflow.dequantizer is None and vflow.get_config()["dequantization"] == "uniform"


@pytest.mark.parametrize("name", ["glow", "vflow"])
def test_a_bad_dequantization_is_rejected_by_name(name):
    with pytest.raises(ValueError, match="dequantization must be one of .* got 'gaussian'"):
        models.get(name, (8, 8, 1), **TINY[name], dequantization="gaussian")
    with pytest.raises(ValueError, match="dequantization_steps"):
        models.get(name, (8, 8, 1), **{**TINY[name], **TINY_Q, "dequantization_steps": -1})


def test_layer_arguments_and_trainer_flags():
    with pytest.raises(ValueError, match="base must be one of"):
        layers.VariationalDequantization((4, 4, 1), base="gumbel")
    layer = layers.VariationalDequantization((4, 4, 3), num_bits=5, num_steps=2, hidden_units=4)
    clone = layers.VariationalDequantization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    flag_values = flags.FlagValues()
    define_model_flags(flag_values)
    flag_values(["prog", "--glow_dequantization=variational", "--vflow_dequantization_steps=3"])
    assert flag_values["glow_dequantization"].value == "variational"
    assert flag_values["vflow_dequantization_steps"].value == 3
