"""Tests of Flow++'s mixture-of-logistics coupling: the bijector and its Keras layers.

The bijector's cases use random tf-only conditioners (`RandomNet` of
`test_bijectors.py`) whose one output holds the `(3K + 2) * C_b` mixture
parameters; every second direction is computed by a new instance on a new
tensor, so TFP's cache never answers for the maths.
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_bijectors import RandomNet

from tfflows import bijectors as fb
from tfflows import layers


@dataclasses.dataclass
class Case:
    name: str
    event_shape: tuple
    num_masked: int | None
    num_components: int
    cond_shape: tuple | None = None

    @property
    def event_ndims(self):
        return len(self.event_shape)

    def units(self):
        """(conditioning, transformed) sizes."""
        channels = self.event_shape[-1]
        k = channels // 2 if self.num_masked is None else self.num_masked
        return (k, channels - k) if k > 0 else (-k, channels + k)

    def net(self, seed=0):
        conditioning, transformed = self.units()
        cond_ch = 0 if self.cond_shape is None else self.cond_shape[-1]
        width = (3 * self.num_components + 2) * transformed
        image = self.event_ndims == 3
        return RandomNet(conditioning, width, 1, image, cond_ch, seed=seed, out_scale=1.5)

    def builder(self, seed=0, **kwargs):
        """A factory of NEW instances sharing one conditioner."""
        net = self.net(seed)
        return lambda: fb.MixtureLogisticCoupling(
            net, self.num_components, self.num_masked, self.event_ndims, **kwargs
        )

    def kwargs(self, batch, dtype, seed=7):
        if self.cond_shape is None:
            return {}
        c = np.random.RandomState(seed).normal(size=tuple(batch) + self.cond_shape)
        return {"conditional_input": tf.constant(c, dtype)}


CASES = [
    Case("vec", (6,), None, 3),
    Case("vec_single_component_neg", (5,), -2, 1),
    Case("img_cond", (2, 2, 4), 1, 2, cond_shape=(2, 2, 3)),
]
IDS = [c.name for c in CASES]


def _normal(shape, dtype=tf.float64, seed=0, scale=2.0):
    return tf.constant(np.random.RandomState(seed).normal(size=shape) * scale, dtype)


def _max_abs(a):
    return float(np.max(np.abs(np.asarray(a))))


# --------------------------------------------------------------------------------------------
# The maths: round trips, log-dets, gradients of the bisection.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype,tol", [(tf.float64, 1e-10), (tf.float32, 2e-5)], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_round_trips_without_cache(case, dtype, tol):
    build, kw = case.builder(), case.kwargs((4,), dtype)
    x = _normal((4, *case.event_shape), dtype, seed=1)
    z = tf.identity(build().inverse(x, **kw))
    assert _max_abs(z - x) > 0.1  # not the identity
    np.testing.assert_allclose(build().forward(z, **kw), x, rtol=tol, atol=tol)
    z0 = _normal((4, *case.event_shape), dtype, seed=2)
    x0 = tf.identity(build().forward(z0, **kw))
    np.testing.assert_allclose(build().inverse(x0, **kw), z0, rtol=tol, atol=tol)


def _autodiff_log_det(fn, x):
    batch = x.shape[0]
    flat = tf.reshape(x, [batch, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        out = tf.reshape(fn(tf.reshape(flat, x.shape)), [batch, -1])
    return tf.linalg.slogdet(tape.batch_jacobian(out, flat))[1]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_dets_match_autodiff_jacobians(case):
    build, kw, nd = case.builder(), case.kwargs((3,), tf.float64), case.event_ndims
    x = _normal((3, *case.event_shape), seed=3)
    ildj = build().inverse_log_det_jacobian(x, event_ndims=nd, **kw)
    expected = _autodiff_log_det(lambda v: build().inverse(v, **kw), x)
    np.testing.assert_allclose(ildj, expected, rtol=1e-9, atol=1e-9)
    assert _max_abs(ildj) > 1e-2
    # The forward direction's Jacobian flows through the bisection's implicit gradient.
    z = _normal((3, *case.event_shape), seed=4)
    fldj = build().forward_log_det_jacobian(z, event_ndims=nd, **kw)
    expected = _autodiff_log_det(lambda v: build().forward(v, **kw), z)
    np.testing.assert_allclose(fldj, expected, rtol=1e-9, atol=1e-9)
    # Cached (same instance, after `forward`) and fresh log-dets agree across directions.
    bijector = build()
    y = bijector.forward(z, **kw)
    cached = bijector.inverse_log_det_jacobian(y, event_ndims=nd, **kw)
    fresh = build().inverse_log_det_jacobian(tf.identity(y), event_ndims=nd, **kw)
    np.testing.assert_allclose(cached, -fldj, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fresh, -fldj, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_jacobian_is_the_inverse_of_the_inverse_jacobian(case):
    """The whole Jacobian, `d y_b / d x_a` (through the parameters) included."""
    build, kw = case.builder(), case.kwargs((2,), tf.float64)
    z = _normal((2, *case.event_shape), seed=5)
    flat = tf.reshape(z, [2, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        flat_y = tf.reshape(build().forward(tf.reshape(flat, z.shape), **kw), [2, -1])
    forward_jacobian = tape.batch_jacobian(flat_y, flat)
    flat_y = tf.identity(flat_y)
    with tf.GradientTape() as tape:
        tape.watch(flat_y)
        back = tf.reshape(build().inverse(tf.reshape(flat_y, z.shape), **kw), [2, -1])
    inverse_jacobian = tape.batch_jacobian(back, flat_y)
    assert _max_abs(forward_jacobian - np.eye(flat.shape[1])) > 0.1
    identity = np.broadcast_to(np.eye(flat.shape[1]), forward_jacobian.shape)
    np.testing.assert_allclose(forward_jacobian @ inverse_jacobian, identity, atol=1e-9)


def test_bisection_error_is_bounded_by_the_bracket_halved_n_times():
    case = CASES[0]
    z = _normal((50, 6), seed=6, scale=3.0)
    x_ref = case.builder(num_bisection_steps=200)().forward(z)
    for steps in (8, 16):
        error = _max_abs(case.builder(num_bisection_steps=steps)().forward(z) - x_ref)
        # The bracket (between the components' quantiles) is under 2^8 wide here.
        assert 0 < error <= 2.0**8 * 2.0**-steps
    assert _max_abs(case.builder()().forward(z) - x_ref) < 1e-13
    # One component: the bracket is the quantile itself, exact after any number of steps.
    single = CASES[1]
    z = _normal((5, 5), seed=7)
    x = single.builder(num_bisection_steps=1)().forward(z)
    np.testing.assert_allclose(single.builder()().inverse(tf.identity(x)), z, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Shapes, dtypes, compilation, extreme inputs.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)], ids=str)
def test_batch_shapes(batch):
    case = CASES[2]
    build, kw, nd = case.builder(), case.kwargs(batch, tf.float64), case.event_ndims
    x = _normal(batch + case.event_shape, seed=8)
    z = build().inverse(x, **kw)
    ildj = build().inverse_log_det_jacobian(x, event_ndims=nd, **kw)
    assert z.shape == x.shape and ildj.shape == batch
    np.testing.assert_allclose(build().forward(tf.identity(z), **kw), x, atol=1e-10)
    if batch:  # each member transformed as if it were alone
        flat_x = tf.reshape(x, (-1, *case.event_shape))
        flat_c = tf.reshape(kw["conditional_input"], (-1, *case.cond_shape))
        first = build().inverse(flat_x[0], conditional_input=flat_c[0])
        np.testing.assert_allclose(first, tf.reshape(z, flat_x.shape)[0], atol=1e-12)


def test_float32_matches_float64():
    case = CASES[0]
    build = case.builder()
    x = _normal((4, 6), seed=9)
    for method in ("inverse", "forward", "inverse_log_det_jacobian", "forward_log_det_jacobian"):
        args = {"event_ndims": 1} if "log_det" in method else {}
        f64 = getattr(build(), method)(x, **args)
        f32 = getattr(build(), method)(tf.cast(x, tf.float32), **args)
        assert f32.dtype == tf.float32 and f64.dtype == tf.float64
        np.testing.assert_allclose(f32, f64, rtol=1e-4, atol=1e-4)


def test_eager_function_and_xla_agree():
    case = CASES[2]
    build, nd = case.builder(), case.event_ndims
    kw = case.kwargs((2,), tf.float32)
    x = _normal((2, *case.event_shape), tf.float32, seed=10)

    def run(x, kw):
        with tf.GradientTape() as tape:
            tape.watch(x)
            bijector = build()  # one bisection: the log-det comes from the cache
            y = bijector.forward(x, **kw)
            fldj = bijector.forward_log_det_jacobian(x, event_ndims=nd, **kw)
            loss = tf.reduce_sum(y**2) + tf.reduce_sum(fldj)
        return (
            y,
            fldj,
            build().inverse(tf.identity(y), **kw),
            build().inverse_log_det_jacobian(x, event_ndims=nd, **kw),
            tape.gradient(loss, x),
        )

    eager = run(x, kw)
    for compiled in (tf.function(run), tf.function(run, jit_compile=True)):
        for e, c in zip(eager, compiled(x, kw)):
            np.testing.assert_allclose(c, e, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(eager[2], x, atol=1e-4)


def test_extreme_inputs_stay_finite_and_accurate_in_float32():
    case = CASES[0]
    build = case.builder()
    values = [1e4, -1e6, 3e7, -1e30, 1e30, 0.5]
    x64 = tf.constant(np.array([values, values[::-1]]), tf.float64)
    x32 = tf.cast(x64, tf.float32)
    for method in ("inverse", "forward"):
        out = getattr(build(), method)(x32)
        ldj = getattr(build(), f"{method}_log_det_jacobian")(x32, event_ndims=1)
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(ldj)), (method, out, ldj)
        # The log-det's large terms cancel analytically, not in float32.
        reference = getattr(build(), f"{method}_log_det_jacobian")(x64, event_ndims=1)
        np.testing.assert_allclose(ldj, reference, rtol=1e-4, atol=1e-4)
    # Round trips far in the tails, where the CDF itself is 0 or 1 in float32.
    x = tf.constant([[3.0, -2.0, 1.0, 40.0, -60.0, 90.0]], tf.float32)
    z = tf.identity(build().inverse(x))
    np.testing.assert_allclose(build().forward(z), x, rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------------------------------------
# Initialisation, conditioning, validation.
# --------------------------------------------------------------------------------------------


def _zero_net(units):
    return lambda x_a: tf.zeros(tf.concat([tf.shape(x_a)[:-1], [units]], axis=0), x_a.dtype)


def test_zero_conditioner_is_near_identity_and_identity_without_spread():
    x = tf.constant(np.linspace(-30.0, 30.0, 601).reshape(-1, 1) * [1.0, 1.0], tf.float64)
    exact = fb.MixtureLogisticCoupling(_zero_net(14), 4, num_masked=1, mean_spread=0.0)
    np.testing.assert_allclose(exact.inverse(x), x, atol=1e-12)
    np.testing.assert_allclose(exact.inverse_log_det_jacobian(x, event_ndims=1), 0.0, atol=1e-12)
    near = fb.MixtureLogisticCoupling(_zero_net(14), 4, num_masked=1)
    z = near.inverse(x)
    deviation = _max_abs(z - x)
    assert 0.03 < deviation < 0.07, deviation
    slope = tf.exp(fb.MixtureLogisticCoupling(_zero_net(14), 4, 1).inverse_log_det_jacobian(x, 1))
    assert 0.96 < np.min(slope) and np.max(slope) <= 1.0 + 1e-12


@pytest.mark.parametrize("spread,tied", [(0.0, True), (0.5, False)])
def test_mean_offsets_untie_components_of_a_zero_initialised_network(spread, tied):
    """Without the offsets, equal components get equal gradients: a single logistic."""
    k = 3
    x = _normal((16, 2), seed=11)
    features = tf.tanh(x[:, :1] * tf.constant([[1.0, -0.7, 0.4]], tf.float64))
    weights = tf.Variable(tf.zeros([3, 3 * k + 2], tf.float64))
    coupling = fb.MixtureLogisticCoupling(lambda _: features @ weights, k, 1, mean_spread=spread)
    with tf.GradientTape() as tape:
        z, ildj = coupling.inverse(x), coupling.inverse_log_det_jacobian(x, event_ndims=1)
        loss = tf.reduce_mean(tf.reduce_sum(z**2, -1) / 2 - ildj)
    grad = tape.gradient(loss, weights).numpy()
    means = grad[:, 2 + k : 2 + 2 * k]  # the columns of mu'_1..K
    spread_of_columns = np.max(np.abs(means - means[:, :1]))
    assert (spread_of_columns < 1e-12) == tied, spread_of_columns


def test_conditional_input_changes_the_map():
    case = CASES[2]
    build = case.builder()
    x = _normal((3, *case.event_shape), seed=12)
    c1, c2 = case.kwargs((3,), tf.float64, seed=1), case.kwargs((3,), tf.float64, seed=2)
    z1 = build().inverse(x, **c1)
    assert _max_abs(z1 - build().inverse(x, **c2)) > 1e-2
    np.testing.assert_allclose(build().forward(tf.identity(z1), **c1), x, atol=1e-10)


def test_bad_arguments_and_conditioner_outputs_are_rejected_naming_the_culprit():
    with pytest.raises(ValueError, match="num_components"):
        fb.MixtureLogisticCoupling(_zero_net(2), num_components=0)
    with pytest.raises(ValueError, match="num_bisection_steps"):
        fb.MixtureLogisticCoupling(_zero_net(2), num_bisection_steps=0)
    x = _normal((3, 4), seed=13)
    # 2 transformed units, K = 2: the conditioner must return (3 * 2 + 2) * 2 = 16 units.
    with pytest.raises(ValueError, match=r"mixture_params_fn\) returned 15 units.*= 16"):
        fb.MixtureLogisticCoupling(_zero_net(15), 2).inverse(x)
    with pytest.raises(TypeError, match="mixture_params_fn.*2 tensors"):
        fb.MixtureLogisticCoupling(lambda a: (a, a), 2).forward(x)

    # A conditioner pooling over the batch only broadcasts against x_b: without
    # validate_args that passes silently, with it the shape check names the conditioner.
    def pooled(x_a):
        return tf.reduce_mean(tf.tile(x_a, [1, 8]), axis=0, keepdims=True)

    assert fb.MixtureLogisticCoupling(pooled, 2).inverse(x).shape == x.shape
    checked = fb.MixtureLogisticCoupling(pooled, 2, validate_args=True, name="mixlog")
    with pytest.raises(ValueError, match="mixlog.*mixture_params_fn.*leading axes"):
        checked.inverse(x)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float64)])
    def unknown_batch(x):
        return fb.MixtureLogisticCoupling(pooled, 2, validate_args=True).inverse(x)

    with pytest.raises(tf.errors.InvalidArgumentError, match="mixture_params_fn"):
        unknown_batch(x)


# --------------------------------------------------------------------------------------------
# The Keras layers: Coupling, GlowStep and MultiScaleFlow with coupling="mixlogistic".
# --------------------------------------------------------------------------------------------


def _small_flow(dtype="float64", **kwargs):
    config = dict(num_levels=2, num_steps=1, hidden_units=8, seed=1, coupling="mixlogistic")
    config.update(kwargs)
    return layers.MultiScaleFlow((4, 4, 2), dtype=dtype, **{"num_components": 3, **config})


def _randomize(flow, scale=0.1, seed=0):
    rng = np.random.default_rng(seed)
    for variable in flow.trainable_variables:
        variable.assign(scale * rng.standard_normal(variable.shape))
    return flow


def test_multiscale_flow_round_trip_log_det_and_config():
    flow = _small_flow()
    coupling = flow.steps[0].coupling
    assert isinstance(coupling.bijector(), fb.MixtureLogisticCoupling)
    # 8 channels after the squeeze, 4 transformed, (3 * 3 + 2) values each.
    assert coupling.conditioner.out.filters == 4 * 11
    _randomize(flow)
    x = tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, (3, 4, 4, 2)))
    z, log_det = flow.inverse_and_log_det(x)
    assert _max_abs(z - x) > 1e-2
    np.testing.assert_allclose(flow.forward(tf.identity(z)), x, atol=1e-10)
    np.testing.assert_allclose(log_det, _autodiff_log_det(flow.inverse, x), atol=1e-9)

    config = flow.get_config()
    assert config["coupling"] == "mixlogistic" and config["num_components"] == 3
    clone = layers.MultiScaleFlow.from_config(config)
    clone.set_weights(flow.get_weights())
    np.testing.assert_array_equal(clone.log_prob(x), flow.log_prob(x))
    np.testing.assert_array_equal(clone.sample(2, seed=3), flow.sample(2, seed=3))
    step = layers.GlowStep.from_config(flow.steps[0].get_config())
    assert step.coupling.kind == "mixlogistic" and step.num_components == 3


def test_multiscale_flow_trains_and_samples_finite_images():
    flow = _small_flow("float32", num_levels=1, seed=2)
    rng = np.random.default_rng(1)
    data = tf.constant(rng.normal(size=(32, 4, 4, 2)) * [0.3, 1.5] + [0.5, -1.0], tf.float32)
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(x))
        variables = flow.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    losses = [float(train_step(data)) for _ in range(15)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0] - 1.0, losses
    # The mixture parameters learn (their zero-initialised layer moved), each component its own.
    kernel = flow.steps[0].coupling.conditioner.out.kernel.numpy()
    kernel = kernel.reshape(-1, 4, 3 * 3 + 2)  # [inputs, transformed units, 3K + 2]
    means = kernel[..., 2 + 3 : 2 + 6]
    assert np.max(np.abs(kernel)) > 1e-3 and np.max(np.abs(means - means[..., :1])) > 1e-4
    samples = flow.sample(8, seed=5)
    assert samples.shape == (8, 4, 4, 2) and np.all(np.isfinite(samples))


def test_coupling_layer_kinds_and_dense_network():
    with pytest.raises(ValueError, match="mixlogistic"):
        layers.Coupling(kind="spline")
    layer = layers.Coupling(kind="mixlogistic", network="dense", hidden_units=8, num_components=4)
    layer.build((None, 5))
    assert layer.conditioner.out.units == 3 * (3 * 4 + 2)  # 3 transformed units of 5
    x = tf.random.stateless_normal([4, 5], seed=[1, 2], dtype=tf.float32)
    z = layer.inverse(x)  # a new layer: near the identity (the mean offsets only)
    assert 0 < _max_abs(z - x) < 0.07
    assert layers.Coupling.from_config(layer.get_config()).num_components == 4
