"""VectorVFlow: the bounds, the plain flow's exact density, the loss, config, bad arguments."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import layers, models
from tfflows.models.gaussian import standard_normal_log_prob

TINY = dict(
    num_steps=2,
    hidden_units=8,
    num_hidden_layers=1,
    scale_activation="atan",
    posterior_steps=1,
    posterior_hidden_units=6,
    seed=0,
    dtype="float64",
)


def tiny(augmented_dims=4, **overrides):
    keras.utils.set_random_seed(0)
    return models.VectorVFlow(2, augmented_dims, **{**TINY, **overrides})


def points(n=16, seed=0):
    return tf.constant(np.random.default_rng(seed).standard_normal((n, 2)), tf.float64)


@pytest.fixture(scope="module")
def vflow(perturb):
    model = tiny()
    model.initialize(points(64, seed=1))
    perturb(model.trainable_variables, 0.2, seed=2)
    return model


@pytest.fixture(scope="module")
def flow(perturb):
    model = tiny(augmented_dims=0)
    model.initialize(points(64, seed=1))
    perturb(model.trainable_variables, 0.2, seed=3)
    return model


def autodiff_log_det(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tf.linalg.slogdet(tape.batch_jacobian(y, x))[1]


def test_elbo_is_below_the_iw_bound_which_grows_with_k(vflow):
    x = points()
    # E_q[log w] over 64 draws per point at once.
    u = vflow.noise(64 * 16, seed=9)
    elbo = tf.reduce_mean(tf.reshape(vflow.log_weights(tf.tile(x, [64, 1]), u)[0], [64, 16]), 0)
    elbo = elbo.numpy()
    iw_8 = vflow.log_prob(x, num_importance_samples=8, seed=100).numpy()
    iw_256 = vflow.log_prob(x, num_importance_samples=256, seed=100).numpy()
    # Burda et al.: E[ELBO] <= E[IW_8] <= E[IW_256], with gaps well above the noise here.
    assert elbo.mean() + 0.05 < iw_8.mean() < iw_256.mean()
    assert np.mean(elbo < iw_256) > 0.9


def test_iw_bound_is_the_log_mean_exp_of_seeded_weights_in_any_chunking(vflow):
    x = points(5)
    # Sample k is drawn from (seed, k): the bound from the weights by hand.
    weights = [vflow.log_weights(x, vflow.noise(5, seed=7, sample=k))[0] for k in range(6)]
    expected = tf.reduce_logsumexp(tf.stack(weights), axis=0) - np.log(6.0)
    for chunk in (1, 4, 6):
        bound = vflow.log_prob(x, num_importance_samples=6, seed=7, samples_per_chunk=chunk)
        np.testing.assert_allclose(bound, expected, rtol=1e-12)
    # The ELBO is sample 0's weight.
    np.testing.assert_allclose(vflow.log_prob(x, seed=7), weights[0], rtol=1e-12)


def test_an_untrained_plain_flow_is_the_standard_normal():
    model = tiny(augmented_dims=0)  # actnorm at the identity, rotations, zero couplings
    x = points()
    np.testing.assert_allclose(model.log_prob(x), standard_normal_log_prob(x, 1), rtol=1e-12)
    assert model.likelihood_kind == "exact"


def test_plain_flow_log_prob_is_the_change_of_variables_density(flow):
    x = points()
    z, log_det = flow.flow.inverse_and_log_det(x)
    np.testing.assert_allclose(log_det, autodiff_log_det(flow.flow.inverse, x), rtol=1e-9)
    expected = standard_normal_log_prob(z, 1) + log_det
    np.testing.assert_allclose(flow.log_prob(x), expected, rtol=1e-12)
    # Any K gives the exact value (no z to sample).
    np.testing.assert_allclose(flow.log_prob(x, num_importance_samples=9, seed=1), expected)
    # And it is a density: it integrates to 1 (a 2-D Riemann sum on [-9, 9]^2).
    axis = np.linspace(-9.0, 9.0, 361)
    grid = np.stack([g.ravel() for g in np.meshgrid(axis, axis)], axis=1)
    mass = np.exp(flow.log_prob(tf.constant(grid))).sum() * (axis[1] - axis[0]) ** 2
    assert abs(mass - 1.0) < 2e-3


def test_loss_is_minus_log_joint_plus_log_q_of_the_posterior_sample(vflow):
    x = points(6)
    terms = vflow.per_example_terms(x, seed=5)
    u = vflow.noise(6, seed=5)
    z = vflow.posterior_flow.forward(u, x)
    log_q = standard_normal_log_prob(u, 1) - autodiff_log_det(
        lambda u: vflow.posterior_flow.forward(u, x), u
    )
    log_joint = vflow.flow.log_prob(tf.concat([x, z], axis=-1))
    np.testing.assert_allclose(terms["log_posterior"], log_q, rtol=1e-9)
    np.testing.assert_allclose(terms["log_joint"], log_joint, rtol=1e-12)
    np.testing.assert_allclose(terms["loss"], log_q - log_joint, rtol=1e-9)
    np.testing.assert_allclose(terms["log_likelihood"], -terms["loss"])
    assert vflow.likelihood_kind == "elbo"


def test_training_lowers_minus_the_elbo_and_trains_q():
    model = tiny(dtype="float32")
    x = (points(256).numpy() * [3.0, 0.3]).astype(np.float32)
    model.compile(keras.optimizers.Adam(1e-2))
    q_before = [v.numpy().copy() for v in model.posterior_flow.trainable_variables]
    loss_before = -float(tf.reduce_mean(model.log_prob(x, seed=0)))
    history = model.fit(x, batch_size=64, epochs=4, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()
    assert -float(tf.reduce_mean(model.log_prob(x, seed=0))) < loss_before - 0.3
    q_after = model.posterior_flow.trainable_variables
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(q_before, q_after))


def test_config_round_trip(vflow):
    clone = models.VectorVFlow.from_config(vflow.get_config())
    clone.set_weights(vflow.get_weights())
    assert clone.get_config() == vflow.get_config()
    x = points(4)
    np.testing.assert_array_equal(clone.log_prob(x, seed=3), vflow.log_prob(x, seed=3))
    np.testing.assert_array_equal(clone.sample(3, seed=1), vflow.sample(3, seed=1))
    assert clone.sample(3, seed=1).shape == (3, 2)


def test_dense_glow_config_round_trip_and_conditioning(perturb):
    flow = layers.DenseGlow(4, num_steps=2, hidden_units=8, conditional_shape=(3,), seed=1)
    perturb(flow.trainable_variables, 0.1, seed=0)
    clone = layers.DenseGlow.from_config(flow.get_config())
    clone.set_weights(flow.get_weights())
    x, c = tf.random.stateless_normal((5, 4), [1, 2]), tf.random.stateless_normal((5, 3), [3, 4])
    np.testing.assert_array_equal(clone.log_prob(x, c), flow.log_prob(x, c))
    assert float(tf.reduce_max(tf.abs(flow.log_prob(x, c) - flow.log_prob(x, -c)))) > 1e-3


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(augmented_dims=1), "augmented_dims"),
        (dict(augmented_dims=-2), "augmented_dims"),
        (dict(num_steps=0), "num_steps"),
        (dict(hidden_units="wide"), "hidden_units"),
        (dict(posterior_steps=0), "posterior_steps"),
    ],
)
def test_bad_arguments_are_rejected_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        models.VectorVFlow(**{"event_size": 2, **kwargs})


def test_bad_inputs_are_rejected_by_name(vflow):
    with pytest.raises(ValueError, match=r"x must have shape \[N, 2\]"):
        vflow.log_prob(tf.zeros([3, 3], tf.float64))
    with pytest.raises(ValueError, match="num_importance_samples"):
        vflow.log_prob(points(2), num_importance_samples=0)
