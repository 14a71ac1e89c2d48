"""GLF, regularized GLF and the VAE with a flow prior (Xiao et al., 2019)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import export, models
from tfflows.data import digits_arrays
from tfflows.optimizers import SplitAdam

TINY = dict(latent_dim=4, filters=(8, 8), hidden_units=16, flow_hidden_units=8)


@pytest.fixture(scope="module")
def digits():
    return digits_arrays("train")[0]


def tiny(name, **kwargs):
    keras.utils.set_random_seed(0)
    return models.get(name, (8, 8, 1), **{**TINY, **kwargs})


def randomize_flow(model, scale=0.3):
    """The flow starts as the identity (zero-initialised outputs); make it a real map."""
    rng = np.random.default_rng(1)
    for variable in model.flow.trainable_variables:
        variable.assign(scale * rng.standard_normal(variable.shape).astype(np.float32))


def gradients(model, images, term):
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(model.per_example_terms(images, training=True, seed=0)[term])
    variables = model.encoder.trainable_variables + model.flow.trainable_variables
    grads = tape.gradient(value, variables)
    grads = [tf.zeros(v.shape) if g is None else g for g, v in zip(grads, variables)]
    count = len(model.encoder.trainable_variables)
    norm = lambda gs: float(tf.linalg.global_norm(gs))  # noqa: E731
    return norm(grads[:count]), norm(grads[count:])


def test_defaults_follow_the_paper():
    assert models.model_class("glf_regularized") is models.GLF
    mnist = models.get("glf", (28, 28, 1))
    assert (mnist.latent_dim, mnist.flow_hidden_units, mnist.stop_gradient) == (20, 64, True)
    assert not models.get("glf_regularized", (28, 28, 1)).stop_gradient
    assert not models.get("glf_regularized", (8, 8, 1), preset="small").stop_gradient
    cifar = models.get("vae_flow_prior", (32, 32, 3))
    assert (cifar.latent_dim, cifar.flow_hidden_units, cifar.flow.num_blocks) == (64, 256, 4)
    assert cifar.encoder.output.shape[-1] == 128  # mean and scale (appendix A)
    assert mnist.decoder.get_layer(index=-5).output.shape[1:] == (7, 7, 128)  # M = H / 4
    with pytest.raises(ValueError, match="divisible by 4"):
        models.get("glf", (30, 30, 1))


@pytest.mark.parametrize("name", ["glf", "vae_flow_prior"])
def test_autoencoder_init_stddev_draws_every_kernel_from_that_normal(name):
    """The authors' code initialises every conv and linear kernel N(0, 0.02^2), biases 0."""
    model = models.get(name, (28, 28, 1), autoencoder_init_stddev=0.02)
    default = models.get(name, (28, 28, 1))
    pairs = [
        (a, b)
        for net, ref in ((model.encoder, default.encoder), (model.decoder, default.decoder))
        for a, b in zip(net.weights, ref.weights)
        if a.path.endswith("kernel")
    ]
    assert len(pairs) == 8  # per network: 2 convs (transposed in G) and 2 dense layers
    for kernel, glorot in pairs:
        assert np.std(kernel.numpy()) == pytest.approx(0.02, rel=0.1), kernel.path
        assert abs(np.std(glorot.numpy()) - 0.02) > 0.003, glorot.path  # the test can tell
    biases = [w for w in model.encoder.weights + model.decoder.weights if w.path.endswith("bias")]
    assert biases and all(not np.any(b.numpy()) for b in biases)
    clone = type(model).from_config(model.get_config())
    assert clone.autoencoder_init_stddev == 0.02 and default.autoencoder_init_stddev is None


@pytest.mark.parametrize("name", ["glf", "vae_flow_prior"])
def test_decoder_logit_scale_2_is_the_authors_tanh_output(name):
    """sigmoid(2a) = 0.5 tanh(a) + 0.5 of the same last-layer output `a`, and it round-trips."""
    keras.utils.set_random_seed(1)
    plain = models.get(name, (28, 28, 1), latent_dim=4, flow_blocks=1)
    keras.utils.set_random_seed(1)
    scaled = models.get(name, (28, 28, 1), latent_dim=4, flow_blocks=1, decoder_logit_scale=2)
    assert len(scaled.decoder.weights) == len(plain.decoder.weights)
    z = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    a = plain.decoder(z).numpy()
    assert np.abs(a).max() > 1e-3  # the check below can tell 1 from 2
    np.testing.assert_allclose(scaled.decoder(z).numpy(), 2 * a, rtol=1e-6)
    np.testing.assert_allclose(scaled.decode(z).numpy(), 0.5 * np.tanh(a) + 0.5, atol=1e-6)
    clone = type(scaled).from_config(scaled.get_config())
    assert clone.decoder_logit_scale == 2.0 and plain.decoder_logit_scale == 1.0
    clone.set_weights(scaled.get_weights())
    np.testing.assert_allclose(clone.decode(z).numpy(), scaled.decode(z).numpy(), atol=1e-6)


@pytest.mark.parametrize("name", ["glf", "glf_regularized", "vae_flow_prior"])
def test_flow_permute_every_block_is_the_authors_flow_layout(name, digits):
    """One permutation per block of two couplings (FrEIA's), kept by the config."""
    model = tiny(name, flow_permute_every="block")
    assert model.flow.permute_every == "block" and tiny(name).flow.permute_every == "coupling"
    assert sum(p is not None for p in model.flow.permutations) == model.flow_blocks
    randomize_flow(model)
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    images = digits[:4]
    np.testing.assert_array_equal(clone.log_prob(images, seed=0), model.log_prob(images, seed=0))
    np.testing.assert_array_equal(clone.sample(3, seed=2), model.sample(3, seed=2))


@pytest.mark.parametrize("name", ["glf", "glf_regularized", "vae_flow_prior"])
def test_freia_coupling_options_reach_the_flow_and_the_config(name, digits):
    """The atan clamp and section 3.1's direction reach every coupling and survive the config."""
    freia = dict(flow_scale_activation="atan", flow_affine_direction="inverse")
    model = tiny(name, flow_permute_every="block", **freia)
    couplings = [c.bijector() for c in model.flow.couplings]
    assert {(c.scale_activation, c.affine_direction) for c in couplings} == {("atan", "inverse")}
    default = tiny(name, flow_permute_every="block", flow_scale_activation="atan")
    assert {c.bijector().affine_direction for c in default.flow.couplings} == {"forward"}
    randomize_flow(model)
    default.set_weights(model.get_weights())
    images = digits[:4]
    # Same weights, the coupling's map in the other direction: another density.
    assert not np.allclose(model.log_prob(images, seed=0), default.log_prob(images, seed=0))
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.log_prob(images, seed=0), model.log_prob(images, seed=0))
    np.testing.assert_array_equal(clone.sample(3, seed=2), model.sample(3, seed=2))


@pytest.mark.parametrize("name", ["glf", "vae_flow_prior"])
def test_autoencoder_dtype_mixed_bfloat16_keeps_weights_latents_and_logits_float32(name, digits):
    """The hidden layers compute in bfloat16 from float32 weights; the rest stays float32."""
    mixed = tiny(name, autoencoder_dtype="mixed_bfloat16")
    plain = tiny(name)
    plain.set_weights(mixed.get_weights())
    hidden = [layer for layer in mixed.encoder.layers[1:-1] if layer.weights]
    assert hidden and all(layer.compute_dtype == "bfloat16" for layer in hidden)
    assert all(w.dtype == "float32" for w in mixed.weights)
    assert mixed.encoder.layers[-1].compute_dtype == "float32"
    assert mixed.decoder.layers[-1].compute_dtype == "float32"
    assert all(layer.compute_dtype == "float32" for layer in mixed.flow._flatten_layers())
    x = digits[:8]
    z, z_plain = mixed.encode(x), plain.encode(x)
    assert z.dtype == tf.float32 and mixed.decode(z).dtype == tf.float32
    # bfloat16 has 8 significant bits: close to the float32 model, but not equal to it.
    np.testing.assert_allclose(z, z_plain, rtol=0.1, atol=0.05)
    assert np.abs(z.numpy() - z_plain.numpy()).max() > 1e-5
    mixed.compile(mixed.make_optimizer(1e-3))
    history = mixed.fit(x, batch_size=4, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][-1])
    clone = type(mixed).from_config(mixed.get_config())
    assert clone.autoencoder_dtype == "mixed_bfloat16" and plain.autoencoder_dtype is None
    assert clone.decoder.layers[1].compute_dtype == "bfloat16"
    # Under a global mixed policy too, the (scaled) logits stay float32.
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        scaled = tiny(name, decoder_logit_scale=2)
    finally:
        keras.config.set_dtype_policy("float32")
    assert scaled.decoder.layers[1].compute_dtype == "bfloat16"
    assert scaled.decoder(z).dtype == tf.float32 and scaled.encode(x).dtype == tf.float32


def test_stop_gradient_keeps_the_nll_off_the_encoder(digits):
    x = digits[:32]
    glf, regularized = tiny("glf"), tiny("glf_regularized")
    nll_encoder, nll_flow = gradients(glf, x, "latent_nll")
    assert nll_encoder == 0.0 and nll_flow > 0.0
    assert gradients(regularized, x, "latent_nll")[0] > 1e-3
    for model in (glf, regularized):
        recon_encoder, recon_flow = gradients(model, x, "reconstruction")
        assert recon_encoder > 1e-3 and recon_flow == 0.0


def test_short_fit_fits_the_flow_to_the_encoded_latents(digits):
    model = tiny("glf")
    model.compile(model.make_optimizer(3e-3))
    train = tf.data.Dataset.from_tensor_slices(digits[:512]).batch(64, drop_remainder=True)
    initial_flow = model.flow.get_weights()
    before = model.evaluate(train, verbose=0, return_dict=True)
    history = model.fit(train, epochs=6, verbose=0).history
    after = model.evaluate(train, verbose=0, return_dict=True)
    assert after["mse"] < 0.8 * before["mse"]
    # The encoder moves the latents while the flow learns them (stop-gradient:
    # the flow cannot pull them back), so compare flows on the final latents.
    latents = model.encode(digits[:512])
    trained = float(tf.reduce_mean(-model.flow.log_prob(latents)))
    np.testing.assert_allclose(trained, after["latent_nll"], rtol=0.05)
    model.flow.set_weights(initial_flow)
    untrained = float(tf.reduce_mean(-model.flow.log_prob(latents)))
    assert trained < untrained - 1.0, (trained, untrained, history["latent_nll"])


@pytest.mark.parametrize("name", ["glf", "vae_flow_prior"])
def test_samples_shapes_range_seeds_and_interpolation(name, digits):
    model = tiny(name)
    randomize_flow(model)
    a = model.sample(5, temperature=0.8, seed=3)
    assert a.shape == (5, 8, 8, 1) and a.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0
    np.testing.assert_array_equal(a, model.sample(5, temperature=0.8, seed=3))
    assert not np.array_equal(a, model.sample(5, temperature=0.8, seed=4))
    mode = model.sample(2, temperature=0.0, seed=3)
    np.testing.assert_allclose(mode, model.decode(model.flow.forward(tf.zeros([2, 4]))), atol=1e-6)
    if name == "glf":
        strip = model.interpolate_images(digits[:2], digits[2:4], num_steps=5)
        assert strip.shape == (5, 2, 8, 8, 1)
        np.testing.assert_allclose(strip[0], model.decode(model.encode(digits[:2])), atol=1e-6)
        np.testing.assert_allclose(strip[-1], model.decode(model.encode(digits[2:4])), atol=1e-6)
        noise = tf.random.stateless_normal([2, 2, 4], seed=[1, 2])
        strip = model.interpolate_noise(noise[0], noise[1], num_steps=3)
        np.testing.assert_allclose(strip[-1], model.decode(model.flow.forward(noise[1])), atol=1e-6)


@pytest.mark.parametrize("log_sigma, close", [(-12.0, True), (-1.0, False)])
def test_vae_flow_prior_tends_to_regularized_glf_as_noise_vanishes(digits, log_sigma, close):
    """Section 3.4: -ELBO = regularized GLF's loss + constants + log q, as sigma -> 0."""
    beta = 200.0  # GLF's weight on the sum of squared errors; the VAE's precision is 2 beta
    glf = tiny("glf_regularized", beta=beta)
    vae = tiny("vae_flow_prior", beta=2 * beta)
    randomize_flow(glf)
    vae.flow.set_weights(glf.flow.get_weights())
    vae.decoder.set_weights(glf.decoder.get_weights())
    weights = glf.encoder.get_weights()
    kernel, bias = weights[-2], weights[-1]
    weights[-2] = np.concatenate([kernel, np.zeros_like(kernel)], axis=1)
    weights[-1] = np.concatenate([bias, np.full_like(bias, log_sigma)])
    vae.encoder.set_weights(weights)
    x = digits[:16]
    g, v = (m.per_example_terms(x, seed=7) for m in (glf, vae))
    constant = -0.5 * vae.num_dims * math.log(2 * beta / (2 * math.pi))
    log_q = v["kl"] - v["prior_nll"]
    nats = vae.nats_per_loss_unit  # `loss` is in bits/dim for both models
    limit = v["loss"] * nats - constant - log_q
    g_loss = g["loss"] * nats
    if close:
        np.testing.assert_allclose(
            v["reconstruction"] - constant, beta * g["reconstruction"], rtol=1e-4
        )
        np.testing.assert_allclose(limit, g_loss, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(v["prior_nll"], g["latent_nll"], rtol=1e-4, atol=1e-4)
    else:
        assert float(tf.reduce_max(tf.abs(limit - g_loss))) > 1.0


def test_vae_flow_prior_bounds(digits):
    model = tiny("vae_flow_prior")
    randomize_flow(model)
    x = digits[:16]
    assert model.likelihood_kind == "elbo"
    elbo = model.log_prob(x, seed=3)
    iw = model.log_prob(x, seed=3, num_importance_samples=64)
    assert float(tf.reduce_mean(iw)) >= float(tf.reduce_mean(elbo)) - 1e-3
    terms = model.per_example_terms(x, seed=3)
    np.testing.assert_allclose(
        terms["loss"] * model.nats_per_loss_unit, terms["reconstruction"] + terms["kl"], rtol=1e-5
    )


def test_glf_optimizer_groups_exactly_the_flow():
    model = tiny("glf")
    optimizer = model.make_optimizer(1e-3)
    grouped = [v for v in model.trainable_variables if optimizer.in_group(v)]
    assert {id(v) for v in grouped} == {id(v) for v in model.flow.trainable_variables}
    assert optimizer.group_l2 == pytest.approx(2e-5 / model.nats_per_loss_unit)


@pytest.mark.parametrize("name", ["glf", "vae_flow_prior"])
def test_steps_match_the_papers_optimizer_on_the_loss_in_nats(name, digits):
    """`loss` is in bits/dim; `make_optimizer` rescales epsilon and L2 so Adam's steps are
    those of the paper's constants on the loss in nats per example.

    Both optimizers are fed the same gradients (ours in bits/dim, the paper's times
    `nats_per_loss_unit`): recomputing them on each model would compare two trajectories of a
    randomised flow, whose gradients drift apart by more than any tolerance within three steps.
    """
    ours, reference = tiny(name), tiny(name)
    randomize_flow(ours)
    reference.set_weights(ours.get_weights())
    ours_start = [v.numpy() for v in ours.trainable_variables]
    nats = ours.nats_per_loss_unit
    if name == "glf":
        papers = SplitAdam(
            1e-3,
            epsilon=1e-8,
            group_beta_1=ours.flow_adam_betas[0],
            group_beta_2=ours.flow_adam_betas[1],
            group_epsilon=ours.flow_adam_epsilon,
            group_l2=ours.flow_weight_decay,
        ).set_group(reference.flow.trainable_variables)
    else:
        papers = keras.optimizers.Adam(1e-3, epsilon=1e-7)
    optimizer = ours.make_optimizer(1e-3)
    for step in range(3):
        with tf.GradientTape() as tape:
            terms = ours.per_example_terms(digits[:16], training=True, seed=step)
            loss = tf.reduce_mean(terms["loss"])
        gradients = tape.gradient(loss, ours.trainable_variables)
        optimizer.apply(gradients, ours.trainable_variables)
        papers.apply([g * nats for g in gradients], reference.trainable_variables)
    moved = 0
    for a, b, start in zip(ours.trainable_variables, reference.trainable_variables, ours_start):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=a.path)
        moved += int(np.sum(np.abs(a.numpy() - start) > 1e-4))
    assert moved > 1000


def test_perceptual_reconstruction_with_an_untrained_extractor(digits):
    inputs = keras.Input((8, 8, 3))
    first = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    second = keras.layers.Conv2D(4, 3, strides=2, padding="same")(first)
    extractor = keras.Model(inputs, [first, second])
    model = tiny("glf", reconstruction_loss="perceptual", feature_extractor=extractor)
    assert not extractor.trainable_variables
    terms = model.per_example_terms(digits[:8], seed=0)
    assert terms["reconstruction"].shape == (8,)
    assert np.all(np.isfinite(terms["reconstruction"])) and np.all(terms["reconstruction"] > 0)
    clone = models.GLF.from_config(model.get_config())
    assert clone.feature_extractor.output[1].shape == (None, 4, 4, 4)
    with pytest.raises(ValueError, match="feature_extractor"):
        tiny("glf", reconstruction_loss="perceptual")


@pytest.mark.parametrize(
    "name, dtype", [("glf", None), ("vae_flow_prior", None), ("glf", "mixed_bfloat16")]
)
def test_export_runs_with_tensorflow_only(
    name, dtype, digits, tmp_path, serve_with_tensorflow_only
):
    model = tiny(name, autoencoder_dtype=dtype)
    randomize_flow(model, scale=0.1)
    images = digits[:6]
    path = tmp_path / "saved_model"
    export.export_saved_model(model, path, max_samples=16)
    served = serve_with_tensorflow_only(path, images)
    assert served["modules"] == []
    assert {"sample", "log_prob", "encode", "decode", "metadata"} <= set(served["signatures"])
    assert served["metadata"]["likelihood_kind"] == ("joint" if name == "glf" else "elbo")
    np.testing.assert_allclose(served["latents"], model.encode(images), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(served["decoded"], model.decode(model.encode(images)), atol=1e-5)
    out = served["log_prob"]
    np.testing.assert_allclose(out["log_prob"], model.log_prob(images, seed=0), rtol=1e-5)
    if name == "glf":
        expected = model.flow.log_prob(model.encode(images))
        np.testing.assert_allclose(out["latent_log_prob"], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(served["sample"], model.sample(3, 0.7, seed=5), atol=1e-6)
