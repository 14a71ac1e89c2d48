"""Bijector-specific tests of `tfflows.bijectors`.

Squeeze shapes and distributions, conditional inputs (direct, routed through
`tfb.Chain` and `tfd.TransformedDistribution`), the scale activations of
`AffineCoupling`, the bijector-cache pitfall, argument validation, and the
matrices of `InvertibleConv1x1`. Shared helpers are in `test_bijectors.py`.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from test_bijectors import (
    CondOnlyNet,
    RandomNet,
    actnorm,
    conv1x1,
    conv1x1_params,
    multiscale_chain,
)

from tfflows import bijectors as fb

tfb = tfp.bijectors
tfd = tfp.distributions


def _normal(shape, dtype=tf.float64, seed=0):
    return tf.constant(np.random.RandomState(seed).normal(size=shape), dtype)


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# --------------------------------------------------------------------------------------------
# Squeeze.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("factor,shape", [(2, (3, 4, 4, 2)), (3, (2, 6, 3, 1)), (2, (2, 4, 6, 3))])
def test_squeeze_matches_space_to_depth(factor, shape):
    x = _normal(shape)
    y = fb.Squeeze(factor).forward(x)
    _close(y, tf.nn.space_to_depth(x, factor))
    _close(fb.Squeeze(factor).inverse(tf.identity(y)), x)
    _close(fb.Squeeze(factor).inverse(y), tf.nn.depth_to_space(y, factor))


def test_squeeze_event_shape_hooks():
    sq = fb.Squeeze()
    assert sq.forward_event_shape([4, 6, 3]).as_list() == [2, 3, 12]
    assert sq.inverse_event_shape([2, 3, 12]).as_list() == [4, 6, 3]
    assert sq.forward_event_shape(tf.TensorShape([None, 4, 6, 3])).as_list() == [None, 2, 3, 12]
    assert sq.forward_event_shape(tf.TensorShape([None, None, 3])).as_list() == [None, None, 12]
    assert sq.inverse_event_shape(tf.TensorShape([5, 2, None, 12])).as_list() == [5, 4, None, 3]
    assert list(sq.forward_event_shape_tensor(tf.constant([4, 6, 3]))) == [2, 3, 12]
    assert list(sq.inverse_event_shape_tensor(tf.constant([7, 2, 3, 12]))) == [7, 4, 6, 3]
    assert fb.Squeeze(3).forward_event_shape([6, 3, 2]).as_list() == [2, 1, 18]
    assert tfb.Invert(sq).forward_event_shape([2, 2, 12]).as_list() == [4, 4, 3]

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    def shapes(x):
        shape = tf.shape(x)
        return sq.forward_event_shape_tensor(shape), sq.inverse_event_shape_tensor(
            sq.forward_event_shape_tensor(shape)
        )

    fwd, back = shapes(tf.zeros([5, 4, 6, 2]))
    assert list(fwd) == [5, 2, 3, 8]
    assert list(back) == [5, 4, 6, 2]


def test_squeeze_in_transformed_distribution():
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), [2, 2, 12])
    dist = tfd.TransformedDistribution(base, tfb.Invert(fb.Squeeze()))
    assert dist.event_shape.as_list() == [4, 4, 3]
    assert list(dist.event_shape_tensor()) == [4, 4, 3]
    x = dist.sample(5, seed=(1, 2))
    assert x.shape == (5, 4, 4, 3)
    # A permutation: the density is the standard normal's on the rearranged values.
    expected = tf.reduce_sum(tfd.Normal(tf.constant(0.0, tf.float64), 1.0).log_prob(x), [1, 2, 3])
    _close(dist.log_prob(x), expected)
    _close(dist.log_prob(tf.identity(x)), expected)

    squeezed = tfd.TransformedDistribution(
        tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), [4, 4, 3]), fb.Squeeze()
    )
    assert squeezed.event_shape.as_list() == [2, 2, 12]
    y = squeezed.sample([2, 3], seed=(3, 4))
    assert y.shape == (2, 3, 2, 2, 12)
    assert squeezed.log_prob(y).shape == (2, 3)


def test_multiscale_flow_as_distribution():
    """The multi-scale flow is one bijector `N(0, I)` on `[2, 2, 8]` -> images `[4, 4, 2]`."""
    build = multiscale_chain()
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), [2, 2, 8])
    dist = tfd.TransformedDistribution(base, build())
    assert dist.event_shape.as_list() == [4, 4, 2]
    x = dist.sample(3, seed=(5, 6))
    assert x.shape == (3, 4, 4, 2)
    x = _normal((3, 4, 4, 2), seed=1)
    z = build().inverse(x)
    expected = base.log_prob(z) + build().inverse_log_det_jacobian(x, event_ndims=3)
    _close(dist.log_prob(x), expected)

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 4, 2], tf.float32)])
    def log_prob(images):
        base32 = tfd.Sample(tfd.Normal(0.0, 1.0), [2, 2, 8])
        return tfd.TransformedDistribution(base32, build(tf.float32)).log_prob(images)

    np.testing.assert_allclose(log_prob(tf.cast(x, tf.float32)), expected, rtol=1e-4)
    assert log_prob(tf.zeros([7, 4, 4, 2])).shape == (7,)


# --------------------------------------------------------------------------------------------
# Conditional inputs.
# --------------------------------------------------------------------------------------------


def _conditional_bijectors():
    vec_net = RandomNet(3, 3, 2, cond_ch=4, seed=51)
    img_net = RandomNet(1, 1, 1, image=True, cond_ch=2, seed=52)
    return [
        (lambda: fb.AffineCoupling(vec_net, num_masked=3), (6,), (4,), 1),
        (
            lambda: fb.AdditiveCoupling(img_net, num_masked=-1, event_ndims=3),
            (4, 4, 2),
            (4, 4, 2),
            3,
        ),
        (lambda: fb.ConditionalAffine(CondOnlyNet(4, 6, seed=53)), (6,), (4,), 1),
    ]


@pytest.mark.parametrize(
    "build,event,cond,nd", _conditional_bijectors(), ids=["affine", "additive", "cond_affine"]
)
def test_conditional_input_changes_output(build, event, cond, nd):
    x = _normal((3, *event), seed=1)
    c1, c2 = _normal((3, *cond), seed=2), _normal((3, *cond), seed=3)
    y1 = build().forward(x, conditional_input=c1)
    y2 = build().forward(x, conditional_input=c2)
    assert np.max(np.abs(y1 - y2)) > 1e-2
    # Each c is inverted by itself only.
    _close(build().inverse(tf.identity(y1), conditional_input=c1), x)
    assert np.max(np.abs(build().inverse(tf.identity(y1), conditional_input=c2) - x)) > 1e-2
    bij = build()
    if not bij.is_constant_jacobian:
        l1 = bij.forward_log_det_jacobian(x, event_ndims=nd, conditional_input=c1)
        l2 = build().forward_log_det_jacobian(x, event_ndims=nd, conditional_input=c2)
        assert l1.shape == l2.shape == (3,)
        assert np.max(np.abs(l1 - l2)) > 1e-3


def _conditional_chain(dtype=tf.float64):
    nets = dict(
        cpl=RandomNet(3, 3, 2, cond_ch=4, seed=61),
        add=RandomNet(2, 4, 1, cond_ch=2, seed=62),
        prior=CondOnlyNet(3, 6, seed=63),
    )
    bijectors = dict(
        cpl=fb.AffineCoupling(nets["cpl"], num_masked=3, name="cpl"),
        add=fb.AdditiveCoupling(nets["add"], num_masked=-2, name="add"),
        prior=fb.ConditionalAffine(nets["prior"], name="prior"),
    )
    # Forward order: prior, then actnorm, then add, then cpl.
    chain = tfb.Chain(
        [bijectors["cpl"], bijectors["add"], actnorm(6, 64, dtype), bijectors["prior"]]
    )
    return chain, bijectors, nets


def _chain_kwargs(seed=0):
    c = {"cpl": (4,), "add": (2,), "prior": (3,)}
    return {
        k: {"conditional_input": _normal((5, *shape), seed=seed + i)}
        for i, (k, shape) in enumerate(c.items())
    }


def test_conditional_input_routed_through_chain():
    chain, _, nets = _conditional_chain()
    assert [b.name for b in chain.bijectors] == ["cpl", "add", "act_norm", "prior"]
    kw = _chain_kwargs()
    x = _normal((5, 6), seed=9)
    y = chain.forward(x, **kw)
    # The manual composition, with new instances (no shared cache).
    _, fresh, _ = _conditional_chain()
    h = fresh["prior"].forward(x, **kw["prior"])
    h = actnorm(6, 64).forward(h)
    h = fresh["add"].forward(h, **kw["add"])
    _close(y, fresh["cpl"].forward(h, **kw["cpl"]))
    assert all(nets[k].calls[-1] for k in ("cpl", "add"))

    fldj = chain.forward_log_det_jacobian(x, event_ndims=1, **kw)
    fresh_chain, _, _ = _conditional_chain()
    _close(fresh_chain.inverse(tf.identity(y), **kw), x)
    _close(fresh_chain.inverse_log_det_jacobian(tf.identity(y), event_ndims=1, **kw), -fldj)
    other = _chain_kwargs(seed=10)
    y_other = _conditional_chain()[0].forward(x, **other)
    assert np.max(np.abs(y_other - y)) > 1e-2


def test_conditional_transformed_distribution_log_prob():
    base = tfd.Sample(tfd.Normal(tf.constant(0.0, tf.float64), 1.0), [6])
    kw = _chain_kwargs()
    x = _normal((5, 6), seed=11)
    chain = _conditional_chain()[0]
    lp = tfd.TransformedDistribution(base, chain).log_prob(x, bijector_kwargs=kw)
    z = _conditional_chain()[0].inverse(x, **kw)
    ildj = _conditional_chain()[0].inverse_log_det_jacobian(x, event_ndims=1, **kw)
    _close(lp, base.log_prob(z) + ildj)
    assert lp.shape == (5,)
    lp_other = tfd.TransformedDistribution(base, _conditional_chain()[0]).log_prob(
        x, bijector_kwargs=_chain_kwargs(seed=20)
    )
    assert np.max(np.abs(lp_other - lp)) > 1e-2

    sample = tfd.TransformedDistribution(base, _conditional_chain()[0]).sample(
        5, seed=(1, 1), bijector_kwargs=kw
    )
    assert sample.shape == (5, 6)

    # The same inside a traced function (the bijectors' names are unique in the graph).
    @tf.function
    def traced_log_prob(x, kw):
        return tfd.TransformedDistribution(base, _conditional_chain()[0]).log_prob(
            x, bijector_kwargs=kw
        )

    _close(traced_log_prob(x, kw), lp, 1e-9)


# --------------------------------------------------------------------------------------------
# Scale activations of AffineCoupling.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["forward", "inverse"])
@pytest.mark.parametrize("act", ["tanh", "exp", "atan"])
@pytest.mark.parametrize("event", [(6,), (2, 2, 4)])
def test_zero_conditioner_is_identity(act, event, direction):
    def zero_fn(x_a):
        zeros = tf.zeros_like(x_a)
        return zeros, zeros

    def coupling():
        return fb.AffineCoupling(
            zero_fn, event_ndims=len(event), scale_activation=act, affine_direction=direction
        )

    bij = coupling()
    x = _normal((3, *event))
    _close(bij.forward(x), x)
    _close(coupling().inverse(x), x)
    _close(bij.forward_log_det_jacobian(x, event_ndims=len(event)), np.zeros(3))


def test_sigmoid_is_not_identity_at_zero():
    def zero_fn(x_a):
        return tf.zeros_like(x_a), tf.zeros_like(x_a)

    x = _normal((3, 6))
    z = fb.AffineCoupling(zero_fn, scale_activation="sigmoid").inverse(x)
    _close(z[:, 3:], x[:, 3:] * (1 / (1 + np.exp(-2.0))))


@pytest.mark.parametrize("num_masked", [None, -2])
def test_scale_activations_match_formulas(num_masked):
    """Numpy re-implementation, including Glow's sigmoid coupling in the data-to-latent way."""
    net = RandomNet(3 if num_masked is None else 2, 3 if num_masked is None else 4, 2, seed=71)
    x = _normal((4, 6), seed=12)
    x_np = x.numpy()
    if num_masked is None:
        x_a, x_b = x_np[:, :3], x_np[:, 3:]
    else:
        x_b, x_a = x_np[:, :4], x_np[:, 4:]
    shift, h = (t.numpy() for t in net(tf.constant(x_a)))
    sigmoid = 1 / (1 + np.exp(-(h + 2)))

    def merge(a, b):
        return np.concatenate([a, b] if num_masked is None else [b, a], axis=-1)

    # Forward (latent -> data) for tanh, exp and FrEIA 0.2's atan clamp (2 * 0.636 * atan).
    for act, log_scale in (("tanh", np.tanh(h)), ("exp", h), ("atan", 1.272 * np.arctan(h))):
        bij = fb.AffineCoupling(net, num_masked=num_masked, scale_activation=act)
        _close(bij.forward(x), merge(x_a, x_b * np.exp(log_scale) + shift))
        _close(bij.forward_log_det_jacobian(x, event_ndims=1), log_scale.sum(-1))

        # GLF's section 3.1 (FrEIA's RNVPCouplingBlock): the same map data -> latent.
        def inverse_form(act=act):
            return fb.AffineCoupling(
                net, num_masked=num_masked, scale_activation=act, affine_direction="inverse"
            )

        _close(inverse_form().inverse(x), merge(x_a, x_b * np.exp(log_scale) + shift))
        _close(inverse_form().inverse_log_det_jacobian(x, event_ndims=1), log_scale.sum(-1))
        _close(inverse_form().forward(x), merge(x_a, (x_b - shift) * np.exp(-log_scale)))
        _close(inverse_form().forward_log_det_jacobian(x, event_ndims=1), -log_scale.sum(-1))

    # Glow (data -> latent): z_b = (x_b + t') * sigmoid(h + 2), t' = -shift,
    # log-det = sum log sigmoid(h + 2).
    glow_shift = -shift
    bij = fb.AffineCoupling(net, num_masked=num_masked, scale_activation="sigmoid")
    _close(bij.inverse(x), merge(x_a, (x_b + glow_shift) * sigmoid))
    _close(bij.inverse_log_det_jacobian(x, event_ndims=1), np.log(sigmoid).sum(-1))
    bij = fb.AffineCoupling(net, num_masked=num_masked, scale_activation="sigmoid")
    _close(bij.forward(x), merge(x_a, x_b / sigmoid - glow_shift))


def test_scale_activations_registry():
    assert set(fb.SCALE_ACTIVATIONS) == {
        "tanh",
        "sigmoid",
        "exp",
        "atan",
        "contracting",
        "capped_exp",
    }
    bij = fb.AffineCoupling(lambda x: (x, x), scale_activation="sigmoid")
    assert bij.scale_activation == "sigmoid"
    assert bij.affine_direction == "forward"
    assert fb.AffineCoupling(_pair, affine_direction="inverse").affine_direction == "inverse"


def test_atan_scale_is_freias_soft_clamp_at_two():
    h = tf.constant([-1e6, -1.0, 0.0, 0.5, 1e6], tf.float64)
    log_scale = fb.SCALE_ACTIVATIONS["atan"](h).numpy()
    _close(log_scale, 2.0 * 0.636 * np.arctan(h.numpy()))
    assert np.all(np.abs(log_scale) < 2.0) and abs(log_scale[-1]) > 1.99


# --------------------------------------------------------------------------------------------
# The bijector-cache pitfall (FlowBijector._get_parameterization).
# --------------------------------------------------------------------------------------------


def test_cache_distinct_instances_actnorm_and_conv():
    x = _normal((2, 4), seed=3)
    y1 = fb.ActNorm(loc=tf.zeros(4, tf.float64), log_scale=tf.zeros(4, tf.float64)).forward(x)
    y2 = fb.ActNorm(loc=tf.ones(4, tf.float64), log_scale=tf.zeros(4, tf.float64)).forward(x)
    _close(y1, x)
    _close(y2, x + 1.0)

    # Weights held in variables, as Keras layers do: a new instance after an update
    # must see the new values, for the same input tensor object.
    loc = tf.Variable(tf.zeros(4, tf.float64))
    log_scale = tf.Variable(tf.zeros(4, tf.float64))
    y1 = fb.ActNorm(loc, log_scale).forward(x)
    x1 = fb.ActNorm(loc, log_scale).inverse(x)
    loc.assign(tf.ones(4, tf.float64))
    log_scale.assign(tf.fill([4], tf.constant(0.5, tf.float64)))
    bij = fb.ActNorm(loc, log_scale)
    _close(y1, x)
    _close(x1, x)
    _close(bij.forward(x), x * np.exp(0.5) + 1.0)
    _close(fb.ActNorm(loc, log_scale).inverse(x), (x - 1.0) * np.exp(-0.5))
    _close(bij.forward_log_det_jacobian(x, event_ndims=1), 2.0)

    params = {k: tf.Variable(v) for k, v in conv1x1_params(4, 5).items()}
    y1 = fb.InvertibleConv1x1(**params).forward(x)
    params["log_scale"].assign_add(tf.ones(4, tf.float64))
    y2 = fb.InvertibleConv1x1(**params).forward(x)
    assert np.max(np.abs(y1 - y2)) > 1e-2


def test_cache_distinct_instances_coupling():
    weight = tf.Variable(tf.constant(0.0, tf.float64))

    def fn(x_a):  # the same callable object for every instance
        return x_a * weight, x_a * weight

    x = _normal((2, 6), seed=4)
    y1 = fb.AffineCoupling(fn).forward(x)
    z1 = fb.AffineCoupling(fn).inverse(x)
    l1 = fb.AffineCoupling(fn).forward_log_det_jacobian(x, event_ndims=1)
    weight.assign(1.0)
    y2 = fb.AffineCoupling(fn).forward(x)
    z2 = fb.AffineCoupling(fn).inverse(x)
    l2 = fb.AffineCoupling(fn).forward_log_det_jacobian(x, event_ndims=1)
    _close(y1, x)
    _close(z1, x)
    _close(l1, np.zeros(2))
    assert np.max(np.abs(y2 - x)) > 1e-2
    assert np.max(np.abs(z2 - x)) > 1e-2
    _close(l2, np.tanh(x.numpy()[:, :3]).sum(-1))


# --------------------------------------------------------------------------------------------
# Invalid arguments.
# --------------------------------------------------------------------------------------------


def _pair(x_a):
    return x_a, x_a


@pytest.mark.parametrize("event_ndims", [0, 2, 4])
def test_coupling_rejects_bad_event_ndims(event_ndims):
    with pytest.raises(ValueError, match="event_ndims"):
        fb.AffineCoupling(_pair, event_ndims=event_ndims)
    with pytest.raises(ValueError, match="event_ndims"):
        fb.AdditiveCoupling(tf.identity, event_ndims=event_ndims)


@pytest.mark.parametrize("act", ["relu", "softplus", None, "Tanh"])
def test_affine_coupling_rejects_bad_scale_activation(act):
    with pytest.raises(ValueError, match="scale_activation"):
        fb.AffineCoupling(_pair, scale_activation=act)


@pytest.mark.parametrize("direction", ["backward", None, "Inverse"])
def test_affine_coupling_rejects_bad_affine_direction(direction):
    with pytest.raises(ValueError, match="affine_direction"):
        fb.AffineCoupling(_pair, affine_direction=direction)


@pytest.mark.parametrize("num_masked", [0, 6, -6, 7, -9])
def test_coupling_rejects_num_masked_out_of_range(num_masked):
    x = tf.zeros([2, 6])
    for bij in (fb.AffineCoupling(_pair, num_masked), fb.AdditiveCoupling(tf.identity, num_masked)):
        with pytest.raises(ValueError, match="num_masked"):
            bij.forward(x)
        with pytest.raises(ValueError, match="num_masked"):
            type(bij)(bij._fn, num_masked).inverse(x)


def test_coupling_rejects_single_channel_and_unknown_channels():
    with pytest.raises(ValueError, match="num_masked"):
        fb.AffineCoupling(_pair).forward(tf.zeros([2, 1]))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def unknown_channels(x):
        return fb.AffineCoupling(_pair).forward(x)

    with pytest.raises(ValueError, match="static"):
        unknown_channels.get_concrete_function()


def test_conditional_affine_requires_conditional_input():
    bij = fb.ConditionalAffine(CondOnlyNet(4, 6))
    x = tf.zeros([2, 6], tf.float64)
    for call in (
        lambda: fb.ConditionalAffine(CondOnlyNet(4, 6)).forward(x),
        lambda: fb.ConditionalAffine(CondOnlyNet(4, 6)).inverse(x),
        lambda: bij.forward_log_det_jacobian(x, event_ndims=1),
        lambda: bij.inverse_log_det_jacobian(x, event_ndims=1),
    ):
        with pytest.raises(ValueError, match="conditional_input"):
            call()


@pytest.mark.parametrize("factor", [0, -2])
def test_squeeze_rejects_bad_factor(factor):
    with pytest.raises(ValueError, match="factor"):
        fb.Squeeze(factor)


# --------------------------------------------------------------------------------------------
# InvertibleConv1x1 and ActNorm against numpy.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("channels", [1, 4, 7])
def test_conv1x1_matrices_and_log_det(channels, dtype):
    params = conv1x1_params(channels, seed=channels)
    bij = conv1x1(channels, seed=channels, dtype=dtype)
    w = bij.matrix().numpy()
    tol = 1e-5 if dtype == tf.float32 else 1e-12

    # W = P L U from the parameters, with numpy.
    lower = np.tril(params["lower"], -1) + np.eye(channels)
    upper = np.triu(params["upper"], 1) + np.diag(params["sign"] * np.exp(params["log_scale"]))
    perm = np.eye(channels)[params["permutation"]]
    np.testing.assert_allclose(w, perm @ lower @ upper, rtol=tol, atol=tol)

    eye = np.eye(channels)
    np.testing.assert_allclose(w @ bij.inverse_matrix().numpy(), eye, atol=10 * tol)
    np.testing.assert_allclose(bij.inverse_matrix().numpy() @ w, eye, atol=10 * tol)

    _, logabsdet = np.linalg.slogdet(perm @ lower @ upper)
    np.testing.assert_allclose(
        bij.forward_log_det_jacobian(tf.zeros([channels], dtype), event_ndims=1),
        logabsdet,
        rtol=tol,
        atol=tol,
    )
    image = _normal((3, 2, 5, channels), dtype, seed=1)
    np.testing.assert_allclose(
        bij.forward_log_det_jacobian(image, event_ndims=3), 10 * logabsdet, rtol=tol, atol=10 * tol
    )
    np.testing.assert_allclose(
        bij.inverse_log_det_jacobian(image, event_ndims=3), -10 * logabsdet, rtol=tol, atol=10 * tol
    )
    # y = W x at every position.
    expected = np.einsum("ij,bhwj->bhwi", perm @ lower @ upper, image.numpy())
    np.testing.assert_allclose(bij.forward(image), expected, rtol=10 * tol, atol=10 * tol)


def test_conv1x1_default_sign_is_positive():
    params = conv1x1_params(3, seed=0)
    del params["sign"]
    bij = fb.InvertibleConv1x1(**params)
    _close(bij.sign, np.ones(3))
    _, logabsdet = np.linalg.slogdet(bij.matrix().numpy())
    _close(bij.forward_log_det_jacobian(tf.zeros([3], tf.float64), event_ndims=1), logabsdet)


def test_actnorm_formula_and_image_log_det():
    rng = np.random.RandomState(0)
    loc, log_scale = rng.normal(size=3), rng.normal(size=3)
    bij = fb.ActNorm(loc, log_scale)
    x = _normal((2, 4, 5, 3), seed=2)
    _close(bij.forward(x), x.numpy() * np.exp(log_scale) + loc)
    _close(fb.ActNorm(loc, log_scale).inverse(x), (x.numpy() - loc) * np.exp(-log_scale))
    _close(bij.forward_log_det_jacobian(x, event_ndims=3), 20 * log_scale.sum())
    _close(bij.forward_log_det_jacobian(x, event_ndims=1), log_scale.sum())


def test_multi_scale_split_passes_keyword_arguments_to_its_inner_bijector():
    from tfflows.bijectors import ConditionalAffine, MultiScaleSplit

    inner = ConditionalAffine(lambda c: (c, 0.5 * c), event_ndims=3)
    split = MultiScaleSplit(inner, num_kept=2)
    x = tf.random.stateless_normal([3, 2, 2, 4], seed=[1, 2])
    c = tf.random.stateless_normal([3, 2, 2, 2], seed=[3, 4])
    y = split.forward(x, conditional_input=c)
    np.testing.assert_allclose(y[..., :2], x[..., :2] * tf.exp(0.5 * c) + c, rtol=1e-6)
    np.testing.assert_allclose(y[..., 2:], x[..., 2:])
    np.testing.assert_allclose(
        split.forward_log_det_jacobian(x, event_ndims=3, conditional_input=c),
        tf.reduce_sum(0.5 * c, [1, 2, 3]),
        rtol=1e-6,
    )
    np.testing.assert_allclose(split.inverse(tf.identity(y), conditional_input=c), x, atol=1e-5)


def test_flow_chain_equals_tfp_chain_and_runs_each_network_once_in_eager_mode():
    from tfflows.bijectors import AffineCoupling, FlowChain, MultiScaleSplit, Squeeze

    calls = []

    def network(scale):
        def fn(x_a):
            calls.append(1)
            return scale * tf.tanh(x_a), scale * tf.sin(x_a)

        return fn

    def parts():
        inner = FlowChain([AffineCoupling(network(0.3), event_ndims=3)], event_ndims=3)
        return [
            tfp.bijectors.Invert(Squeeze()),
            AffineCoupling(network(0.5), event_ndims=3),
            MultiScaleSplit(inner, num_kept=4),
            Squeeze(),
        ]

    x = tf.random.stateless_normal([3, 4, 4, 2], seed=[7, 8], dtype=tf.float64)
    reference = tfp.bijectors.Chain(parts())
    chain = FlowChain(parts(), event_ndims=3)
    calls.clear()
    z = chain.inverse(x)
    log_det = chain.inverse_log_det_jacobian(x, event_ndims=3)
    assert len(calls) == 2  # one evaluation per coupling network, log-det included
    np.testing.assert_allclose(z, reference.inverse(x), rtol=1e-12)
    np.testing.assert_allclose(
        log_det, reference.inverse_log_det_jacobian(x, event_ndims=3), rtol=1e-12
    )
    z = tf.identity(z)
    np.testing.assert_allclose(chain.forward(z), x, atol=1e-12)
    np.testing.assert_allclose(
        chain.forward_log_det_jacobian(z, event_ndims=3), -log_det, rtol=1e-12
    )
    assert chain.forward_event_shape([4, 4, 2]) == [4, 4, 2]
    assert chain.inverse_event_shape_tensor([4, 4, 2]).numpy().tolist() == [4, 4, 2]


@pytest.mark.parametrize(
    "activation, low, high",
    [("contracting", math.exp(-1.0), 1.0), ("capped_exp", 0.0, math.exp(5.0))],
)
def test_sampling_scale_stays_bounded_whatever_the_network_outputs(activation, low, high):
    """The latent-to-data factor of the scales Glow's couplings and priors sample through."""
    h = tf.constant([-1e4, -90.0, -5.0, -2.0, 0.0, 2.0, 5.0, 90.0, 1e4], tf.float32)
    x = tf.ones([9, 2])

    def fn(x_a):
        return tf.zeros_like(x_a), tf.reshape(h, [9, 1])

    coupling = fb.AffineCoupling(fn, num_masked=1, scale_activation=activation)
    factor = coupling.forward(x)[:, 1].numpy()
    assert np.all(np.isfinite(factor)), factor
    assert np.all(factor >= low * (1 - 1e-6)) and np.all(factor <= high * (1 + 1e-6)), factor
    # Near Glow's sigmoid(h + 2) for h in 0..2, and exp(h) for h in -5..0.
    if activation == "contracting":
        reference, moderate = tf.sigmoid(h + 2.0), slice(4, 6)
    else:
        reference, moderate = tf.exp(h), slice(2, 5)
    np.testing.assert_allclose(factor[moderate], reference.numpy()[moderate], rtol=0.02)
