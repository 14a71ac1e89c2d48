"""Loss (6) and f-VAE: the paper's two special cases, the Jacobian, training, sampling, export."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfflows import export, models, visualization
from tfflows.bijectors import ConditionalAffine, Conditioned
from tfflows.data import digits_arrays
from tfflows.layers import MultiScaleFlow
from tfflows.models.conditional_flow_vae import conditional_flow_terms
from tfflows.models.fvae import default_latent_channels
from tfflows.models.gaussian import gaussian_log_prob, kl_to_standard_normal
from tfflows.models.gaussian import standard_normal_log_prob as normal_log_prob

tfb = tfp.bijectors
F64 = tf.float64
TINY = dict(
    encoder_steps=1, hidden_units=8, flow_steps=1, flow_hidden_units=8, seed=0, latent_channels=0
)  # the paper's dimension-kept latent, whose algebra these tests check


@pytest.fixture(scope="module")
def digits():
    return digits_arrays("train")[0]


def sigma_points(x, dims):
    """`u = +-sqrt(D) e_i` per example: mean 0 and covariance I exactly, so the average of
    any quadratic in u over them is its Gaussian expectation (the unscented transform)."""
    n, shape = x.shape[0], x.shape[1:]
    eye = np.sqrt(dims) * np.eye(dims).reshape((dims, *shape))
    u = np.concatenate([eye, -eye])  # [2D, ...]
    return tf.constant(np.tile(u, (n, 1, 1, 1)), F64), tf.repeat(x, 2 * dims, axis=0)


def test_case1_affine_posterior_gives_the_vae_loss():
    """Eq. (7)-(9): F_x(u) = sigma(x) u + mu(x) and q(z) = N(0, I) give reconstruction + KL."""
    x = tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, (3, 4, 4, 2)), F64)
    dims = 32

    def mu_and_log_sigma(c):
        return 0.8 * c + 0.1 * tf.sin(3.0 * c), 0.3 * tf.cos(2.0 * c) - 0.7

    u, xs = sigma_points(x, dims)
    posterior = Conditioned(ConditionalAffine(mu_and_log_sigma, 3), 3, conditional_input=xs)
    log_gamma = tf.constant(-1.3, F64)

    def decoder(z):  # any decoder: the identity holds for the same u
        return gaussian_log_prob(xs, 0.5 * tf.tanh(z), log_gamma, 3)

    terms = conditional_flow_terms(posterior, lambda z: normal_log_prob(z, 3), decoder, u, 3)
    general = tf.reduce_mean(tf.reshape(terms["loss"], [3, 2 * dims]), axis=1)

    mu, log_sigma = mu_and_log_sigma(x)
    z = tf.repeat(mu, 2 * dims, axis=0) + tf.exp(tf.repeat(log_sigma, 2 * dims, axis=0)) * u
    reconstruction = -tf.reduce_mean(tf.reshape(decoder(z), [3, 2 * dims]), axis=1)
    kl = kl_to_standard_normal(tf.reshape(mu, [3, -1]), tf.reshape(log_sigma, [3, -1]))
    np.testing.assert_allclose(general, reconstruction + kl, rtol=1e-13)
    # (8): the log-det is sum(log sigma(x)), the same for every u.
    np.testing.assert_allclose(
        terms["log_det"], tf.repeat(tf.reduce_sum(log_sigma, [1, 2, 3]), 2 * dims), rtol=1e-13
    )


def tiny_flow(shape, dtype="float64"):
    keras.utils.set_random_seed(1)
    flow = MultiScaleFlow(
        shape, num_levels=2, num_steps=2, hidden_units=8, coupling="affine", seed=0, dtype=dtype
    )
    # Random (non-identity) coupling weights, then actnorm from data.
    for variable in flow.trainable_variables:
        variable.assign(variable + 0.1 * tf.random.normal(variable.shape, dtype=variable.dtype))
    flow.initialize(tf.random.uniform((16, *shape), -0.5, 0.5, dtype))
    return flow


def test_case2_noisy_input_flow_is_the_flow_nll():
    """Eq. (10)-(12): F_x(u) = F(sigma u + x), q(x|z) = N(x; F^-1(z), sigma^2) give -log p_F(y).

    The paper's F maps data to latent: it is our flow's inverse.
    """
    flow = tiny_flow((4, 4, 2))
    rng = np.random.default_rng(1)
    x = tf.constant(rng.uniform(-0.5, 0.5, (5, 4, 4, 2)), F64)
    u = tf.constant(rng.standard_normal((5, 4, 4, 2)), F64)
    log_sigma = tf.constant(math.log(0.05), F64)
    affine = ConditionalAffine(lambda c: (c, log_sigma), 3)
    posterior = tfb.Chain(
        [tfb.Invert(flow.bijector()), Conditioned(affine, 3, conditional_input=x)]
    )

    def decoder(z):  # a fresh flow bijector: F^-1 really runs, no cache
        return gaussian_log_prob(x, flow.forward(z), log_sigma, 3)

    terms = conditional_flow_terms(posterior, lambda z: normal_log_prob(z, 3), decoder, u, 3)
    noisy = tf.exp(log_sigma) * u + x
    np.testing.assert_allclose(terms["loss"], -flow.log_prob(noisy), rtol=1e-10)


@pytest.fixture(scope="module")
def fvae64():
    keras.utils.set_random_seed(2)
    model = models.get("fvae", (4, 4, 2), encoder_blocks=1, dtype="float64", **TINY)
    model.log_sigma1.assign(math.log(0.3))
    model.log_sigma2.assign(math.log(0.2))
    images = np.random.default_rng(2).integers(0, 256, (8, 4, 4, 2)).astype(np.uint8)
    model.initialize(images)
    return model, images


def test_fvae_log_det_is_the_autodiff_jacobian_and_loss_is_eq15(fvae64):
    model, images = fvae64
    assert model.latent_shape == (2, 2, 8) and model.flow_levels == 3  # 8 -> 4 -> 2 channels
    y = model.model_space(images[:2], 3)
    u = model._noise(2, 3)
    assert u.dtype == F64
    terms = model.loss_terms(y, u)
    posterior = model.posterior(y)
    with tf.GradientTape() as tape:
        tape.watch(u)
        z = posterior.forward(u)
    jacobian = tf.reshape(tape.batch_jacobian(z, u), [2, 32, 32])
    np.testing.assert_allclose(terms["log_det"], tf.linalg.slogdet(jacobian)[1], rtol=1e-9)

    # Direction: paper F(w) = flow.inverse(w), with w = sigma1 u + E(y).
    sigma1, sigma2 = (tf.exp(v) for v in (model.log_sigma1, model.log_sigma2))
    w = sigma1 * u + model.encoder(y)
    np.testing.assert_allclose(z, model.flow.inverse(w), rtol=1e-9, atol=1e-12)
    # Loss (15) with the terms it leaves implicit (D log sigma2, -D log sigma1).
    dims = 32
    squared = tf.reduce_sum(tf.square(y - model.decoder(w)), [1, 2, 3])
    eq15 = (
        squared / (2 * sigma2**2)
        + dims * tf.math.log(sigma2)
        - model.flow.log_prob(w)
        - dims * tf.math.log(sigma1)
        - 0.5 * tf.reduce_sum(tf.square(u), [1, 2, 3])
    )
    terms = model.loss_terms(y, u)
    np.testing.assert_allclose(terms["loss"], eq15, rtol=1e-10)


@pytest.mark.parametrize("kernel_size", [3, 1])
def test_fvae_flow_couples_spatial_positions(kernel_size):
    """F's latent at one position depends on `w` at another (a prior over whole images).

    With the default 3x3 couplings it does; with 1x1 couplings (and no squeeze in F,
    since E squeezed) nothing in F mixes positions, which the test pins down exactly."""
    keras.utils.set_random_seed(0)
    model = models.get(
        "fvae", (4, 4, 2), encoder_blocks=1, dtype="float64", **TINY, flow_kernel_size=kernel_size
    )
    rng = np.random.default_rng(1)
    for v in model.flow.trainable_variables:  # away from the identity of zero-init couplings
        v.assign(v + 0.3 * rng.standard_normal(v.shape))
    w = tf.constant(rng.standard_normal((1, 2, 2, 8)), F64)
    with tf.GradientTape() as tape:
        tape.watch(w)
        z = model.flow.inverse(w)
    cross = tape.jacobian(z, w)[0, 0, 0, :, 0, 1, 1, :]  # d z[0, 0] / d w[1, 1]
    if kernel_size == 1:
        np.testing.assert_array_equal(cross, 0.0)
    else:
        assert float(tf.reduce_max(tf.abs(cross))) > 1e-2


def test_fvae_sigma2_normaliser_stops_it_growing(fvae64):
    model, images = fvae64
    y = model.model_space(images, 4)
    u = model._noise(8, 4)
    old = model.log_sigma2.numpy()
    model.log_sigma2.assign(math.log(10.0))  # far too large for pixels in [-0.5, 0.5]
    try:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model.loss_terms(y, u)["loss"])
        assert float(tape.gradient(loss, model.log_sigma2)) > 0  # gradient descent shrinks it
    finally:
        model.log_sigma2.assign(old)


def tiny_fvae(**overrides):
    keras.utils.set_random_seed(0)
    return models.get("fvae", (8, 8, 1), **{**TINY, **overrides})


def test_fvae_fit_lowers_loss_with_positive_scales(digits):
    model = tiny_fvae(hidden_units=16, flow_hidden_units=16)
    model.initialize(digits[:128])
    model.compile(keras.optimizers.Adam(3e-3))
    train = tf.data.Dataset.from_tensor_slices(digits[:512]).batch(64, drop_remainder=True)
    before = model.evaluate(train, verbose=0, return_dict=True)
    history = model.fit(train, epochs=4, verbose=0)
    after = model.evaluate(train, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"] - 0.2
    assert set(model.terms) | {"bits_per_dim"} <= set(history.history)
    for name in ("sigma1", "sigma2"):
        values = np.asarray(history.history[name])
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert model.likelihood_kind == "elbo"
    elbo = model.log_prob(digits[:16], seed=3)
    iw = model.log_prob(digits[:16], seed=3, num_importance_samples=16)
    assert float(tf.reduce_mean(iw)) >= float(tf.reduce_mean(elbo)) - 1e-3


def test_fvae_sampling_latents_interpolation_and_temperatures(digits, tmp_path):
    model = tiny_fvae(latent_channels=4)  # the dimension-reduced option
    model.initialize(digits[:64])
    assert model.latent_shape == (2, 2, 4)
    a = model.sample(3, seed=5)
    assert a.shape == (3, 8, 8, 1) and a.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0
    np.testing.assert_array_equal(a, model.sample(3, seed=5))
    assert not np.array_equal(a, model.sample(3, seed=6))
    # T = 0: the image of the prior's mode, G(F^-1(0)).
    np.testing.assert_allclose(
        model.sample(2, temperature=0.0), model.decode(tf.zeros([2, 2, 2, 4])), atol=1e-6
    )
    latents = model.encode(digits[:4])
    assert latents.shape == (4, 2, 2, 4)
    decoded = model.decode(latents)
    assert decoded.shape == (4, 8, 8, 1)
    visualization.save_interpolation_strip(
        model.decode, latents[:2], latents[2:], tmp_path / "interpolation.png", num_steps=5
    )
    visualization.save_temperature_sweep(
        lambda n, t: model.sample(n, t, seed=1), [0.0, 0.8, 1.0], tmp_path / "sweep.png", 4
    )
    assert (tmp_path / "interpolation.png").exists() and (tmp_path / "sweep.png").exists()


def test_fvae_saved_model_serves_with_tensorflow_only(digits, tmp_path, serve_with_tensorflow_only):
    model = tiny_fvae()
    images = digits[:4]
    model.initialize(digits[:64])
    export.export_saved_model(model, tmp_path / "saved_model", max_samples=8)
    out = serve_with_tensorflow_only(tmp_path / "saved_model", images)
    assert out["modules"] == []
    assert {"sample", "log_prob", "encode", "decode", "metadata"} <= set(out["signatures"])
    assert out["metadata"]["likelihood_kind"] == "elbo"
    np.testing.assert_allclose(
        out["log_prob"]["log_prob"], model.log_prob(images, seed=0), rtol=1e-5
    )
    np.testing.assert_allclose(out["latents"], model.encode(images), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["decoded"], model.decode(model.encode(images)), atol=1e-5)
    np.testing.assert_allclose(out["sample"], model.sample(3, 0.7, seed=5), atol=1e-5)


def test_fvae_keras_file_round_trip_and_xla_under_mirrored_strategy(
    digits, tmp_path, mirrored_xla_fit_and_keras_round_trip
):
    mirrored_xla_fit_and_keras_round_trip(tiny_fvae, digits, tmp_path / "fvae.keras")


def test_the_default_latent_is_an_eighth_of_the_image():
    """The dimension-reduced latent is the default (see fvae's "Latent size"); 0 keeps it."""
    assert default_latent_channels((28, 28, 1), 2) == 2
    assert default_latent_channels((32, 32, 3), 2) == 6
    assert default_latent_channels((8, 8, 1), 1) == 2  # at least 2
    reduced = models.get("fvae", (28, 28, 1), preset="small")
    assert reduced.latent_shape == (7, 7, 2)
    kept = models.get("fvae", (28, 28, 1), preset="small", latent_channels=0)
    assert kept.latent_shape == (7, 7, 16)
    for model in (reduced, kept):  # the config says which, and rebuilds the same shape
        clone = models.FVAE.from_config(model.get_config())
        assert clone.latent_shape == model.latent_shape
    with pytest.raises(ValueError, match="latent_channels must be >= 0"):
        models.get("fvae", (28, 28, 1), preset="small", latent_channels=-1)
