"""Tests of the Keras flow layers: maths, initialisation, conditioning, configs."""

import numpy as np
import pytest
import tensorflow as tf

from tfflows import bijectors, layers


def randomize(layer, scale=0.1, seed=0):
    """Gives every trainable weight (zero-initialised ones too) random values."""
    rng = np.random.default_rng(seed)
    for variable in layer.trainable_variables:
        variable.assign(scale * rng.standard_normal(variable.shape))
    return layer


def small_multiscale(dtype="float32", **kwargs):
    config = dict(num_levels=2, num_steps=2, hidden_units=8, seed=1, dtype=dtype)
    config.update(kwargs)
    return layers.MultiScaleFlow((4, 4, 2), **config)


def autodiff_log_det(fn, x):
    """log|det d fn(x) / dx| per example, from the full Jacobian."""
    batch = x.shape[0]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reshape(fn(x), [batch, -1])
    jacobian = tape.batch_jacobian(y, x)
    return tf.linalg.slogdet(tf.reshape(jacobian, [batch, y.shape[1], -1]))[1]


FLOWS = {
    "multiscale_affine": lambda: small_multiscale("float64"),
    "multiscale_additive": lambda: small_multiscale("float64", coupling="additive"),
    "multiscale_sigmoid": lambda: small_multiscale("float64", scale_activation="sigmoid"),
    "multiscale_nosplit": lambda: small_multiscale("float64", split=False),
    # Flow++'s coupling network: gated convolutions and self-attention.
    "multiscale_gated": lambda: small_multiscale("float64", network="gated", num_hidden_layers=1),
    "pixel_glow": lambda: layers.MultiScaleFlow(
        (3, 3, 2),
        num_levels=1,
        num_steps=2,
        hidden_units=8,
        squeeze=False,
        coupling="additive",
        dtype="float64",
    ),
    "realnvp": lambda: layers.RealNVP(6, num_blocks=2, hidden_units=8, dtype="float64"),
    # GLF's reference conditioners (separate s and t networks, batch norm), inference mode.
    "realnvp_reference": lambda: layers.RealNVP(
        6, num_blocks=2, hidden_units=8, separate_networks=True, batch_norm=True, dtype="float64"
    ),
    # The authors' FrEIA layout: one permutation per block of two couplings.
    "realnvp_block": lambda: layers.RealNVP(
        5, num_blocks=2, hidden_units=8, permute_every="block", dtype="float64"
    ),
    # The whole FrEIA flow: that layout, the atan clamp, `x_b exp(s) + t` data to latent.
    "realnvp_freia": lambda: layers.RealNVP(
        5,
        num_blocks=2,
        hidden_units=8,
        permute_every="block",
        scale_activation="atan",
        affine_direction="inverse",
        separate_networks=True,
        batch_norm=True,
        dtype="float64",
    ),
}


def event_input(flow, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.uniform(-0.5, 0.5, (batch,) + flow.event_shape), flow.compute_dtype)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_flow_log_det_matches_autodiff_jacobian(name):
    flow = randomize(FLOWS[name]())
    x = event_input(flow)
    z, log_det = flow.inverse_and_log_det(x)
    np.testing.assert_allclose(log_det, autodiff_log_det(flow.inverse, x), rtol=1e-8, atol=1e-8)
    # The forward log-det is minus the inverse one at the corresponding point.
    _, forward_log_det = flow.forward_and_log_det(tf.identity(z))
    np.testing.assert_allclose(forward_log_det, -log_det, rtol=1e-8, atol=1e-8)
    assert np.abs(log_det.numpy()).max() > 1e-3  # the weights really are non-identity


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_flow_round_trip_with_cache_defeated(name):
    flow = randomize(FLOWS[name]())
    x = event_input(flow)
    z = tf.identity(flow.inverse(x))
    assert np.abs((z - x).numpy()).max() > 1e-3
    np.testing.assert_allclose(flow.forward(z), x, atol=1e-10)
    z2 = tf.identity(flow.sample(2, seed=4))
    np.testing.assert_allclose(flow.forward(tf.identity(flow.inverse(z2))), z2, atol=1e-10)


def test_log_prob_is_normalised_base_plus_log_det():
    flow = randomize(small_multiscale("float64"))
    x = event_input(flow)
    z, log_det = flow.inverse_and_log_det(x)
    expected = -0.5 * tf.reduce_sum(z**2, [1, 2, 3]) - 0.5 * 32 * np.log(2 * np.pi) + log_det
    np.testing.assert_allclose(flow.log_prob(x), expected, rtol=1e-12)
    np.testing.assert_allclose(flow.distribution().log_prob(x), expected, rtol=1e-10)


def test_new_flow_is_identity_up_to_squeezes():
    flow = small_multiscale("float64", split=False)
    x = event_input(flow)
    _, log_det = flow.inverse_and_log_det(x)
    np.testing.assert_allclose(log_det, 0.0, atol=1e-12)
    np.testing.assert_allclose(flow.forward(flow.inverse(x)), x, atol=1e-12)


def test_data_dependent_init_normalises_each_actnorm_input():
    flow = small_multiscale(num_levels=1, num_steps=2)
    x = tf.random.stateless_uniform([16, 4, 4, 2], seed=[1, 2]) * 3.0 + 1.0
    flow.initialize(x)
    h = tf.nn.space_to_depth(x, 2)  # the first level's squeeze
    for step in flow.steps:
        normalised = step.actnorm.inverse(h)
        mean, variance = tf.nn.moments(normalised, axes=[0, 1, 2])
        np.testing.assert_allclose(mean, 0.0, atol=1e-5)
        np.testing.assert_allclose(variance, 1.0, atol=1e-4)
        assert float(step.actnorm.initialized) == 1.0
        h = step.inverse(h)
    assert not step.actnorm._initializing


def test_initialize_refuses_graph_mode():
    flow = small_multiscale()
    with pytest.raises(RuntimeError, match="eagerly"):
        tf.function(flow.initialize)(tf.zeros([2, 4, 4, 2]))


@pytest.mark.parametrize("batch_shape", [(), (3,)])
def test_primitive_layers_round_trip_and_batch_shapes(batch_shape):
    x = tf.random.stateless_normal(batch_shape + (4, 4, 2), seed=[3, 4], dtype=tf.float64)
    for layer in (
        layers.ActNorm(dtype="float64"),
        layers.InvertibleConv1x1(seed=2, dtype="float64"),
        layers.Coupling(hidden_units=8, dtype="float64"),
        layers.GlowStep(hidden_units=8, seed=2, dtype="float64"),
    ):
        layer.build((None, 4, 4, 2))
        randomize(layer)
        z, log_det = layer.inverse_and_log_det(x)
        assert z.shape == x.shape
        assert log_det.shape in (batch_shape, ())
        np.testing.assert_allclose(layer.forward(tf.identity(z)), x, atol=1e-10)


def test_eager_function_and_xla_agree_with_gradients():
    flow = randomize(small_multiscale())
    x = event_input(flow, batch=4)

    def loss_and_grads(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(x))
        return loss, tape.gradient(loss, flow.trainable_variables)

    eager = loss_and_grads(x)
    for fn in (tf.function(loss_and_grads), tf.function(loss_and_grads, jit_compile=True)):
        loss, grads = fn(x)
        np.testing.assert_allclose(loss, eager[0], rtol=1e-5)
        for g, g_eager in zip(grads, eager[1]):
            np.testing.assert_allclose(g, g_eager, rtol=1e-3, atol=1e-5)
    assert all(g is not None for g in eager[1])


def test_sampling_seed_temperature_and_mode():
    flow = randomize(small_multiscale())
    a, b = flow.sample(3, seed=7), flow.sample(3, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, flow.sample(3, seed=8))
    assert a.shape == (3, 4, 4, 2)
    mode = flow.sample(2, temperature=0.0, seed=1)
    np.testing.assert_allclose(mode, flow.forward(tf.zeros([2, 4, 4, 2])), atol=1e-6)


@pytest.mark.parametrize("condition", ["image", "vector"])
def test_conditional_multiscale_flow(condition):
    shape = (4, 4, 3) if condition == "image" else (5,)
    flow = randomize(small_multiscale("float64", conditional_shape=shape))
    x = event_input(flow)
    c1 = tf.random.stateless_normal((3,) + shape, seed=[1, 1], dtype=tf.float64)
    c2 = tf.random.stateless_normal((3,) + shape, seed=[2, 2], dtype=tf.float64)
    z, log_det = flow.inverse_and_log_det(x, conditional_input=c1)
    assert not np.allclose(z, flow.inverse(x, conditional_input=c2))
    np.testing.assert_allclose(flow.forward(tf.identity(z), conditional_input=c1), x, atol=1e-10)
    np.testing.assert_allclose(
        log_det, autodiff_log_det(lambda v: flow.inverse(v, conditional_input=c1), x), atol=1e-8
    )
    assert flow.sample(3, seed=1, conditional_input=c1).shape == (3, 4, 4, 2)


def test_conditional_realnvp():
    flow = randomize(layers.RealNVP(4, num_blocks=2, hidden_units=8, conditional_shape=(3,)))
    x = tf.random.stateless_normal([5, 4], seed=[1, 2])
    c = tf.random.stateless_normal([5, 3], seed=[3, 4])
    assert not np.allclose(flow.log_prob(x, c), flow.log_prob(x, c + 1.0))
    np.testing.assert_allclose(flow.forward(tf.identity(flow.inverse(x, c)), c), x, atol=1e-5)


def test_realnvp_permutes_after_each_coupling_or_once_per_block():
    def layout(flow):
        return [type(b).__name__ for b in flow.bijector().bijectors]

    per_coupling = layers.RealNVP(5, num_blocks=2, hidden_units=8)
    per_block = randomize(layers.RealNVP(5, num_blocks=2, hidden_units=8, permute_every="block"))
    assert layout(per_coupling) == ["AffineCoupling", "Permute"] * 4
    assert layout(per_block) == ["AffineCoupling", "AffineCoupling", "Permute"] * 2
    # Without a permutation between them the block's couplings transform the two halves
    # in turn: each coordinate is changed by one of them, x[2] (odd size) by both.
    x = tf.random.stateless_normal([3, 5], seed=[5, 6])
    first, second = (c.bijector().inverse(x) for c in per_block.couplings[:2])
    np.testing.assert_array_equal(first[:, :2], x[:, :2])
    assert not np.allclose(first[:, 2:], x[:, 2:], atol=1e-4)
    np.testing.assert_array_equal(second[:, 3:], x[:, 3:])
    assert not np.allclose(second[:, :3], x[:, :3], atol=1e-4)
    with pytest.raises(ValueError, match="permute_every"):
        layers.RealNVP(5, permute_every="step")


def test_invalid_configurations_are_explained():
    with pytest.raises(ValueError, match="pad the images"):
        layers.MultiScaleFlow((28, 28, 1), num_levels=3)
    with pytest.raises(ValueError, match="at least 2 channels"):
        layers.MultiScaleFlow((8, 8, 1), num_levels=1, squeeze=False)
    with pytest.raises(ValueError, match="squeeze the input first"):
        layers.Coupling(hidden_units=4).build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="kind"):
        layers.Coupling(kind="spline")


@pytest.mark.parametrize(
    "name", ["multiscale_affine", "realnvp", "realnvp_reference", "realnvp_block", "realnvp_freia"]
)
def test_get_config_round_trip(name):
    flow = randomize(FLOWS[name]())
    clone = type(flow).from_config(flow.get_config())
    clone.set_weights(flow.get_weights())
    x = event_input(flow)
    np.testing.assert_array_equal(clone.log_prob(x), flow.log_prob(x))
    np.testing.assert_array_equal(clone.sample(2, seed=3), flow.sample(2, seed=3))


def test_uniform_dequantization_fills_bins_and_discretizes_back():
    x = tf.constant(np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1))
    for num_bits in (8, 5):
        layer = layers.UniformDequantization(num_bits)
        y = layer(x, seed=3)
        assert y.dtype == tf.float32
        assert -0.5 <= float(tf.reduce_min(y)) and float(tf.reduce_max(y)) < 0.5
        bins = (x.numpy() // 2 ** (8 - num_bits)).astype(np.float64)
        offset = (y.numpy() + 0.5) * 2**num_bits - bins  # the noise u, in [0, 1)
        assert offset.min() >= 0.0 and offset.max() < 1.0 and offset.std() > 0.1
        np.testing.assert_array_equal(layer.discretize(y), bins * 2 ** (8 - num_bits))
        np.testing.assert_array_equal(layer(x, seed=3), y)
    assert layers.UniformDequantization.from_config(layer.get_config()).num_bits == 5


@pytest.mark.parametrize(
    "layer",
    [
        layers.ActNorm(event_ndims=3, epsilon=1e-5),
        layers.InvertibleConv1x1(seed=4),
        layers.Coupling(kind="additive", hidden_units=8, num_masked=-1),
        layers.Coupling(network="dense", hidden_units=8, scale_activation="exp"),
        layers.GlowStep(coupling="additive", hidden_units=8, seed=3),
        layers.GlowStep(network="dense", hidden_units=8, num_hidden_layers=1, seed=3),
    ],
    ids=lambda layer: f"{type(layer).__name__}-{getattr(layer, 'network', '')}",
)
def test_primitive_layer_config_round_trip(layer):
    shape = (None, 4) if getattr(layer, "network", "conv") == "dense" else (None, 4, 4, 2)
    layer.build(shape)
    randomize(layer)
    clone = type(layer).from_config(layer.get_config())
    clone.build(shape)
    clone.set_weights(layer.get_weights())
    x = tf.random.stateless_normal((3,) + shape[1:], seed=[5, 6])
    for mine, theirs in zip(clone.inverse_and_log_det(x), layer.inverse_and_log_det(x)):
        np.testing.assert_array_equal(mine, theirs)


def test_separate_networks_give_each_output_its_own_weights():
    net = layers.DenseConditioner(3, num_outputs=2, hidden_units=8, separate_networks=True)
    net.build((None, 4))
    shared = layers.DenseConditioner(3, num_outputs=2, hidden_units=8)
    shared.build((None, 4))
    assert net.count_params() == 2 * (4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3)
    assert shared.count_params() == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 6 + 6
    x = tf.random.normal([5, 4], seed=1)
    shift, log_scale = net(x)
    assert shift.shape == log_scale.shape == (5, 3)
    assert np.all(shift.numpy() == 0) and np.all(log_scale.numpy() == 0)  # zero-initialised heads
    randomize(net)
    shift, log_scale = net(x)
    net.other_heads[0].bias.assign_add(tf.ones([3]))  # the second network only
    shift2, log_scale2 = net(x)
    np.testing.assert_array_equal(shift2, shift)
    np.testing.assert_allclose(log_scale2, log_scale + 1.0, rtol=1e-6)


def test_batch_norm_couplings_train_on_batch_statistics_and_infer_on_moving_ones():
    flow = randomize(
        layers.RealNVP(6, 2, 8, separate_networks=True, batch_norm=True, dtype="float64"), 0.5
    )
    x = 3.0 * event_input(flow, batch=16) + 1.0
    moving = [v.numpy().copy() for v in flow.non_trainable_variables]
    assert len(moving) == 2 * 2 * 2 * 2 * 2  # 4 couplings x 2 networks x 2 norms x (mean, var)
    inference = flow.log_prob(x).numpy()
    unchanged = [v.numpy() for v in flow.non_trainable_variables]
    assert all(np.array_equal(a, b) for a, b in zip(moving, unchanged))

    @tf.function
    def train_mode_log_prob(x):
        z, log_det = flow(x, training=True)
        return flow.base_log_prob(z) + log_det

    training = train_mode_log_prob(x).numpy()
    assert np.abs(training - inference).max() > 1e-2  # batch statistics, not the moving ones
    assert not np.allclose(flow.non_trainable_variables[0].numpy(), moving[0])
    for _ in range(400):  # momentum 0.9: the moving statistics converge to this batch's
        train_mode_log_prob(x)
    np.testing.assert_allclose(flow.log_prob(x), training, rtol=1e-7, atol=1e-7)


def test_every_conditional_layer_declares_conditional_shape_and_it_is_checked():
    for make in (
        lambda s: layers.Coupling(network="dense", hidden_units=4, conditional_shape=s),
        lambda s: layers.GlowStep(hidden_units=4, conditional_shape=s),
        lambda s: layers.ConvConditioner(2, conditional_shape=s),
        lambda s: layers.DenseConditioner(2, conditional_shape=s),
        lambda s: layers.RealNVP(4, num_blocks=1, conditional_shape=s),
        lambda s: layers.DenseGlow(4, num_steps=1, conditional_shape=s),
    ):
        for bad in ((2, 3), (0,), (4, 4, -1)):
            with pytest.raises(ValueError, match=r"conditional_shape must be None"):
                make(bad)
        layer = make((3,))
        assert layer.get_config()["conditional_shape"] == (3,)
        assert type(layer).from_config(layer.get_config()).conditional_shape == (3,)
    coupling = layers.Coupling(network="dense", hidden_units=4, conditional_shape=(3,))
    coupling.build((None, 4))
    c = tf.ones((2, 3))
    bijector = coupling.bijector(conditional_input=c)
    assert isinstance(bijector, bijectors.Conditioned)
    assert bijector.forward(tf.ones((2, 4))).shape == (2, 4)
