"""`validate_args` of every tfflows bijector, and of the layers that build them.

Per check: with `validate_args=True` a bad argument is rejected with a message naming
it (`ValueError`/`TypeError` when shapes are static, `InvalidArgumentError` from an
assertion when they are known only at run time, as under `tf.function` with unknown
axes); with the default False the same argument goes through unchecked; a good one
passes the checks.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfflows import bijectors as fb
from tfflows import layers

tfb = tfp.bijectors
REJECTED = (ValueError, TypeError, tf.errors.InvalidArgumentError)


def _normal(shape, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=shape), tf.float64)


def _graph(fn, *shapes):
    """`fn` as a `tf.function` of float64 inputs of `shapes` (None: unknown axes)."""
    specs = [tf.TensorSpec(shape, tf.float64) for shape in shapes]
    return tf.function(fn, input_signature=specs, autograph=False)


# --------------------------------------------------------------------------------------------
# Couplings: the conditioner's outputs against x_b, and the split.
# --------------------------------------------------------------------------------------------


def _pooled_pair(x_a):  # one (shift, h) for the whole batch: broadcasts, does not match
    mean = tf.reduce_mean(x_a, axis=0, keepdims=True)
    return mean, -mean


def _good_pair(x_a):
    return 0.1 * x_a, 0.2 * x_a


def test_affine_coupling_checks_the_conditioners_outputs():
    x = _normal((3, 4))
    assert fb.AffineCoupling(_pooled_pair).forward(x).shape == x.shape  # unchecked
    checked = fb.AffineCoupling(_pooled_pair, validate_args=True, name="affine7")
    with pytest.raises(ValueError, match=r"affine7.*shift_and_log_scale_fn.*leading axes"):
        checked.forward(x)
    with pytest.raises(TypeError, match=r"shift_and_log_scale_fn\) returned one tensor"):
        fb.AffineCoupling(lambda a: tf.stack([a, a]), validate_args=True).forward(x)
    good = fb.AffineCoupling(_good_pair, validate_args=True)
    np.testing.assert_allclose(good.forward(x), fb.AffineCoupling(_good_pair).forward(x))

    def forward(x, validate_args):
        return fb.AffineCoupling(_pooled_pair, validate_args=validate_args).forward(x)

    assert _graph(lambda x: forward(x, False), [None, 4])(x).shape == x.shape
    with pytest.raises(tf.errors.InvalidArgumentError, match="shift_and_log_scale_fn"):
        _graph(lambda x: forward(x, True), [None, 4])(x)
    good_graph = _graph(
        lambda x: fb.AffineCoupling(_good_pair, validate_args=True).forward(x), [None, 4]
    )
    np.testing.assert_allclose(good_graph(x), good.forward(x))


def test_additive_coupling_checks_the_shift():
    x = _normal((3, 2, 2, 4))

    def one_channel(x_a):  # [..., 1] against x_b's 2 channels: broadcasts silently
        return tf.reduce_sum(x_a, axis=-1, keepdims=True)

    unchecked = fb.AdditiveCoupling(one_channel, event_ndims=3)
    assert unchecked.forward(x).shape == x.shape
    checked = fb.AdditiveCoupling(one_channel, event_ndims=3, validate_args=True, name="add3")
    with pytest.raises(ValueError, match=r"add3.*shift_fn.*last axis"):
        checked.forward(x)
    with pytest.raises(TypeError, match=r"shift_fn\) returned 2 tensors"):
        fb.AdditiveCoupling(_good_pair, event_ndims=3, validate_args=True).inverse(x)

    def pooled(x_a):  # over the batch: an unknown batch size decides only at run time
        return tf.reduce_mean(x_a, axis=0, keepdims=True)

    def inverse(x):
        return fb.AdditiveCoupling(pooled, event_ndims=3, validate_args=True).inverse(x)

    with pytest.raises(tf.errors.InvalidArgumentError, match="shift_fn"):
        _graph(inverse, [None, None, None, 4])(x)
    fine = fb.AdditiveCoupling(lambda a: 0.5 * a, event_ndims=3, validate_args=True)
    np.testing.assert_allclose(fine.inverse(fine.forward(x)), x, atol=1e-12)


def test_the_coupling_split_is_checked():
    x = _normal((2, 4))
    # Out of range: always rejected (a split that cannot be made), naming num_masked.
    for validate_args in (False, True):
        coupling = fb.AffineCoupling(_good_pair, 4, validate_args=validate_args, name="cpl")
        with pytest.raises(ValueError, match=r"cpl.*num_masked=4 invalid for 4 channels"):
            coupling.forward(x)
    with pytest.raises(TypeError, match="num_masked must be an integer"):
        fb.AffineCoupling(_good_pair, num_masked=1.5, validate_args=True)
    fb.AffineCoupling(_good_pair, num_masked=1.5)  # unchecked until used

    def tiled(x_a):  # conditions on the last unit, transforms the first 3
        return tf.tile(x_a, [1, 3]), tf.zeros_like(tf.tile(x_a, [1, 3]))

    good = fb.AffineCoupling(tiled, num_masked=np.int64(-1), validate_args=True)
    assert good.forward(x).shape == x.shape


# --------------------------------------------------------------------------------------------
# ActNorm: a positive, finite scale; parameter and input shapes.
# --------------------------------------------------------------------------------------------


def test_actnorm_checks_its_scale_and_loc():
    loc = tf.zeros([2], tf.float32)
    underflowing = tf.constant([-200.0, 0.0])  # exp(-200) is 0 in float32: not invertible
    fb.ActNorm(loc, underflowing)  # unchecked
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"act7.*scale exp\(log_scale\)"):
        fb.ActNorm(loc, underflowing, validate_args=True, name="act7")
    with pytest.raises(tf.errors.InvalidArgumentError, match="loc must be finite"):
        fb.ActNorm([np.nan, 0.0], [0.0, 0.0], validate_args=True)
    with pytest.raises(ValueError, match="shape of loc"):
        fb.ActNorm(tf.zeros([3]), tf.zeros([2]), validate_args=True)

    @tf.function(autograph=False)
    def scale_from(log_scale):
        return fb.ActNorm(loc, log_scale, validate_args=True).forward(tf.ones([1, 2]))

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"scale exp\(log_scale\)"):
        scale_from(underflowing)
    np.testing.assert_allclose(scale_from(tf.constant([0.0, np.log(2.0)])), [[1.0, 2.0]])


def test_actnorm_checks_the_inputs_channels():
    x = _normal((2, 3))
    one = fb.ActNorm(tf.zeros([1], tf.float64), tf.ones([1], tf.float64))
    assert one.forward(x).shape == x.shape  # one channel's parameters broadcast silently
    checked = fb.ActNorm(tf.zeros([1], tf.float64), tf.ones([1], tf.float64), validate_args=True)
    with pytest.raises(ValueError, match="input channels"):
        checked.inverse(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="input channels"):
        _graph(checked.forward, [None, None])(x)
    good = fb.ActNorm(tf.zeros([3], tf.float64), tf.ones([3], tf.float64), validate_args=True)
    np.testing.assert_allclose(_graph(good.forward, [None, None])(x), x * np.e)


# --------------------------------------------------------------------------------------------
# InvertibleConv1x1: an invertible W.
# --------------------------------------------------------------------------------------------


def _conv_params(channels=3):
    rng = np.random.default_rng(3)
    return dict(
        permutation=np.arange(channels)[::-1].astype(np.int32),
        lower=rng.normal(size=(channels, channels)),
        upper=rng.normal(size=(channels, channels)),
        log_scale=rng.normal(size=channels),
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(log_scale=[-1e4, 0.0, 0.0]), r"diagonal of U.*nonzero"),
        (dict(sign=[1.0, 0.0, -1.0]), "sign must be"),
        (dict(permutation=np.array([0, 0, 2], np.int32)), "permutation must hold"),
        (dict(lower=np.full((3, 3), np.inf)), "lower and upper must be finite"),
    ],
)
def test_invertible_conv1x1_rejects_a_singular_matrix(bad, message):
    params = {**_conv_params(), **bad}
    x = _normal((2, 3))
    assert fb.InvertibleConv1x1(**params).forward(x).shape == x.shape  # unchecked
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"conv5.*{message}"):
        fb.InvertibleConv1x1(**params, validate_args=True, name="conv5")

    @tf.function(autograph=False)
    def forward(x, log_scale):
        conv = fb.InvertibleConv1x1(**{**params, "log_scale": log_scale}, validate_args=True)
        return conv.forward(x)

    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        forward(x, tf.constant(params["log_scale"], tf.float64))


def test_invertible_conv1x1_checks_shapes_and_accepts_a_good_matrix():
    params = _conv_params()
    with pytest.raises(ValueError, match="shape of upper"):
        fb.InvertibleConv1x1(**{**params, "upper": np.eye(2)}, validate_args=True)
    good = fb.InvertibleConv1x1(**params, validate_args=True)
    x = _normal((2, 2, 2, 3))
    y = _graph(good.forward, [None, None, None, 3])(x)
    np.testing.assert_allclose(good.inverse(y), x, atol=1e-10)
    with pytest.raises(ValueError, match="input channels"):
        good.forward(_normal((2, 4)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="input channels"):
        _graph(good.forward, [None, None])(_normal((2, 4)))


# --------------------------------------------------------------------------------------------
# Squeeze, MultiScaleSplit, ConditionalAffine, FlowChain.
# --------------------------------------------------------------------------------------------


def test_squeeze_checks_divisibility():
    odd = _normal((2, 3, 4, 1))
    with pytest.raises(tf.errors.InvalidArgumentError) as unchecked:
        fb.Squeeze().forward(odd)  # TF's reshape error, which names no side
    assert "divisible" not in str(unchecked.value)
    with pytest.raises(ValueError, match=r"sq1.*height and width.*divisible by 2.*\[3, 4\]"):
        fb.Squeeze(validate_args=True, name="sq1").forward(odd)
    with pytest.raises(ValueError, match=r"channels \(C\) must be divisible by 4"):
        fb.Squeeze(validate_args=True).inverse(_normal((2, 2, 2, 6)))
    checked = fb.Squeeze(validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="height and width"):
        _graph(checked.forward, [None, None, None, 1])(odd)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"channels \(C\)"):
        _graph(checked.inverse, [None, 2, 2, None])(_normal((2, 2, 2, 6)))
    x = _normal((2, 4, 6, 1))
    np.testing.assert_allclose(_graph(checked.forward, [None] * 4)(x), tf.nn.space_to_depth(x, 2))


def _repeats_first(axis):
    """A (not really) bijector that repeats the first entry along `axis`: one more entry."""
    return tfb.Inline(
        forward_fn=lambda x: tf.concat([x, tf.gather(x, [0], axis=axis)], axis),
        inverse_fn=lambda y: tf.gather(y, tf.range(tf.shape(y)[axis] - 1), axis=axis),
        forward_log_det_jacobian_fn=lambda x: tf.zeros([], x.dtype),
        forward_min_event_ndims=-axis,
        name="grow",
    )


def test_multi_scale_split_checks_the_split_and_the_inner_shape():
    x = _normal((2, 4, 4, 4))
    # Splitting nothing off runs unchecked; checked, num_kept is named.
    assert fb.MultiScaleSplit(tfb.Identity(), num_kept=4).forward(x).shape == x.shape
    with pytest.raises(ValueError, match=r"msplit.*num_kept=4 invalid for 4 channels"):
        fb.MultiScaleSplit(tfb.Identity(), 4, validate_args=True, name="msplit").forward(x)
    # An inner bijector that adds a channel: unchecked the output silently grows.
    grows = _repeats_first(axis=-1)
    assert fb.MultiScaleSplit(grows, 2).forward(x).shape[-1] == 5
    with pytest.raises(ValueError, match=r"forward output of the inner bijector grow.*last axis"):
        fb.MultiScaleSplit(grows, 2, validate_args=True).forward(x)
    # Wider on an axis unknown when tracing: an assertion names it at run time.
    split = fb.MultiScaleSplit(_repeats_first(axis=-2), 2, validate_args=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="inner bijector grow"):
        _graph(split.forward, [None, None, None, 4])(x)
    with pytest.raises(ValueError, match="needs events of rank >= 3"):
        fb.MultiScaleSplit(fb.Squeeze(), 1, event_ndims=1, validate_args=True)
    fine = fb.MultiScaleSplit(tfb.Scale(tf.constant(2.0, tf.float64)), validate_args=True)
    y = _graph(fine.forward, [None, None, None, 4])(x)
    np.testing.assert_allclose(y, tf.concat([2.0 * x[..., :2], x[..., 2:]], -1))


def test_conditional_affine_checks_the_shift_and_scale():
    x, c = _normal((1, 3)), _normal((2, 3), seed=1)

    def per_condition(c):  # a shift per row of c, 2 rows for x's 1: x would be broadcast
        return c, tf.zeros([3], c.dtype)

    assert fb.ConditionalAffine(per_condition).forward(x, conditional_input=c).shape == (2, 3)
    checked = fb.ConditionalAffine(per_condition, validate_args=True, name="caff")
    with pytest.raises(ValueError, match=r"caff.*shift_and_log_scale_fn.*shift must broadcast"):
        checked.forward(x, conditional_input=c)
    with pytest.raises(TypeError, match=r"\(shift, log_scale\)"):
        fb.ConditionalAffine(lambda c: c, validate_args=True).forward(x, conditional_input=c)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float64)] * 2, autograph=False)
    def forward(x, c):
        return checked.forward(x, conditional_input=c)

    with pytest.raises(tf.errors.InvalidArgumentError, match="shift must broadcast"):
        forward(x, c)
    np.testing.assert_allclose(forward(c, c), 2.0 * c)


def test_flow_chain_checks_the_event_ranks():
    fb.FlowChain([fb.Squeeze()], event_ndims=1)  # unchecked
    with pytest.raises(ValueError, match=r"chain2.*squeeze needs events of rank >= 3"):
        fb.FlowChain([fb.Squeeze()], event_ndims=1, validate_args=True, name="chain2")
    assert fb.FlowChain([fb.Squeeze()], event_ndims=3, validate_args=True).validate_args


# --------------------------------------------------------------------------------------------
# Layers pass validate_args on; the default adds nothing to the graph.
# --------------------------------------------------------------------------------------------


def _assert_ops(flow, x):
    graph = tf.function(flow.log_prob).get_concrete_function(tf.TensorSpec(x.shape)).graph
    return sum(op.type == "Assert" for op in graph.get_operations())


def test_layers_pass_validate_args_to_their_bijectors():
    keras.utils.set_random_seed(0)
    kwargs = dict(num_levels=2, num_steps=1, hidden_units=8, seed=0)
    plain = layers.MultiScaleFlow((4, 4, 1), **kwargs)
    checked = layers.MultiScaleFlow((4, 4, 1), validate_args=True, **kwargs)
    checked.set_weights(plain.get_weights())
    x = tf.random.stateless_normal([2, 4, 4, 1], [1, 2])
    np.testing.assert_allclose(checked.log_prob(x), plain.log_prob(x), rtol=1e-6)
    assert _assert_ops(plain, x) == 0 and _assert_ops(checked, x) > 0
    step = checked.steps[0]
    assert all(
        layer.validate_args and layer.bijector().validate_args
        for layer in (step.actnorm, step.conv1x1, step.coupling)
    )
    assert not plain.steps[0].coupling.bijector().validate_args
    clone = layers.MultiScaleFlow.from_config(checked.get_config())
    assert clone.validate_args and clone.priors[0].validate_args

    # A 1x1 convolution driven singular is caught when its bijector is built.
    conv = layers.InvertibleConv1x1(event_ndims=1, validate_args=True, name="conv1x1")
    conv.build((None, 3))
    conv.log_scale.assign([-1e4, 0.0, 0.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="conv1x1.*diagonal of U"):
        conv.bijector()
    coupling = layers.Coupling(network="dense", hidden_units=4, validate_args=True)
    coupling.build((None, 4))
    assert coupling.bijector().validate_args
    norm = layers.ActNorm(event_ndims=1, validate_args=True)
    norm.build((None, 2))
    norm.log_scale.assign([0.0, -200.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="scale exp"):
        norm.bijector()
