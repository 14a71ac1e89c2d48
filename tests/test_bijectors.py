"""TFP-style tests of `tfflows.bijectors`: generic properties of every bijector.

Each case builds a bijector with random, non-identity parameters and random
tf-only conditioner networks. The properties checked for every case are:
round trips (with the bijector cache defeated), forward/inverse log-det
consistency, log-det against the autodiff Jacobian, batch shapes, eager vs
`tf.function` vs XLA, and unknown batch sizes for image bijectors.

Bijector-specific behaviour (Squeeze shapes, conditioning, scale activations,
the cache pitfall, argument validation, the 1x1 convolution's matrices) is in
`test_bijectors_specific.py`; the shared case definitions live here.
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfflows import bijectors as fb

tfb = tfp.bijectors

# --------------------------------------------------------------------------------------------
# Random tf-only conditioners.
# --------------------------------------------------------------------------------------------


def _conv_or_dense(x, w):
    """A 3x3 'SAME' convolution for a 4-D kernel, a dense layer for a 2-D one.

    Works for any number of batch dimensions, including none.
    """
    w = tf.constant(w, dtype=x.dtype)
    if w.shape.rank == 2:
        return tf.linalg.matvec(w, x, transpose_a=True)
    if x.shape.rank == 3:
        return tf.nn.conv2d(x[tf.newaxis], w, 1, "SAME")[0]
    return tf.nn.conv2d(x, w, 1, "SAME")


class RandomNet:
    """`x_a [, conditional_input=c] -> n_out tensors` of `out_ch` units, random weights.

    For images (`image=True`) the first layer is a 3x3 convolution (so the
    Jacobian mixes positions) and the conditional input `c` is an image of
    `cond_ch` channels mixed in pointwise; for vectors all layers are dense.
    Weights are numpy arrays, cast to the input's dtype at call time, so one
    net serves float32 and float64.
    """

    def __init__(self, in_ch, out_ch, n_out=2, image=False, cond_ch=0, seed=0, out_scale=0.7):
        rng = np.random.RandomState(seed)
        hidden = 8
        shape1 = (3, 3, in_ch, hidden) if image else (in_ch, hidden)
        self.w1 = rng.normal(size=shape1) / np.sqrt(np.prod(shape1[:-1]))
        self.b1 = rng.normal(size=hidden) * 0.1
        self.wc = rng.normal(size=(cond_ch, hidden)) / np.sqrt(max(cond_ch, 1)) if cond_ch else None
        self.w2 = rng.normal(size=(hidden, out_ch * n_out)) * out_scale / np.sqrt(hidden)
        self.b2 = rng.normal(size=out_ch * n_out) * 0.3
        self.n_out = n_out
        self.calls = []

    def __call__(self, x, conditional_input=None):
        self.calls.append(conditional_input is not None)
        h = _conv_or_dense(x, self.w1) + tf.constant(self.b1, x.dtype)
        if self.wc is not None:
            if conditional_input is None:
                raise TypeError("this conditioner needs conditional_input")
            c = tf.convert_to_tensor(conditional_input, dtype=x.dtype)
            h = h + _conv_or_dense(c, self.wc)
        out = _conv_or_dense(tf.tanh(h), self.w2) + tf.constant(self.b2, x.dtype)
        parts = tf.split(out, self.n_out, axis=-1)
        return parts[0] if self.n_out == 1 else tuple(parts)


class CondOnlyNet:
    """`c -> (mu, s)` for `ConditionalAffine`; `s` has `scale_units` units (1 broadcasts)."""

    def __init__(self, cond_ch, units, scale_units=None, seed=0):
        rng = np.random.RandomState(seed)
        scale_units = units if scale_units is None else scale_units
        self.w_mu = rng.normal(size=(cond_ch, units))
        self.w_s = rng.normal(size=(cond_ch, scale_units)) * 0.5
        self.b_s = rng.normal(size=scale_units) * 0.3

    def __call__(self, c):
        mu = _conv_or_dense(c, self.w_mu)
        s = tf.tanh(_conv_or_dense(c, self.w_s)) + tf.constant(self.b_s, c.dtype)
        return mu, s


# --------------------------------------------------------------------------------------------
# Random parameters for the parametric bijectors.
# --------------------------------------------------------------------------------------------


def actnorm(channels, seed, dtype=tf.float64, **kwargs):
    rng = np.random.RandomState(seed)
    return fb.ActNorm(
        loc=tf.constant(rng.normal(size=channels), dtype),
        log_scale=tf.constant(rng.normal(size=channels) * 0.5, dtype),
        **kwargs,
    )


def conv1x1_params(channels, seed, negative_signs=True):
    rng = np.random.RandomState(seed)
    return dict(
        permutation=rng.permutation(channels).astype(np.int32),
        # Full random matrices: the bijector must use only the relevant triangles.
        lower=rng.normal(size=(channels, channels)) * 0.5,
        upper=rng.normal(size=(channels, channels)) * 0.5,
        log_scale=rng.normal(size=channels) * 0.3,
        sign=(rng.choice([-1.0, 1.0], size=channels) if negative_signs else np.ones(channels)),
    )


def conv1x1(channels, seed, dtype=tf.float64, **kwargs):
    params = conv1x1_params(channels, seed)
    params = {k: v if k == "permutation" else tf.constant(v, dtype) for k, v in params.items()}
    return fb.InvertibleConv1x1(**params, **kwargs)


# --------------------------------------------------------------------------------------------
# The cases.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    """A bijector factory plus the shapes needed to feed it.

    `build(dtype)` returns a NEW instance (with the same parameters) on every
    call, so a second direction can be computed without TFP's cache.
    """

    name: str
    build: Callable[..., tfb.Bijector]
    event_shape: tuple
    event_ndims: int
    cond_shape: tuple | None = None  # per-example shape of `conditional_input`
    constant_jacobian: bool = False

    @property
    def image(self):
        return len(self.event_shape) == 3

    def out_event_shape(self):
        return tuple(self.build().forward_event_shape(self.event_shape).as_list())

    def kwargs(self, batch_shape, dtype, seed=7):
        if self.cond_shape is None:
            return {}
        c = np.random.RandomState(seed).normal(size=tuple(batch_shape) + self.cond_shape)
        return {"conditional_input": tf.constant(c, dtype)}


def _affine(
    event_shape, num_masked, act, seed, cond_ch=0, name="affine_coupling", direction="forward"
):
    channels = event_shape[-1]
    k = channels // 2 if num_masked is None else num_masked
    n_cond = k if k > 0 else -k
    net = RandomNet(n_cond, channels - n_cond, 2, len(event_shape) == 3, cond_ch, seed)
    return lambda dtype=None: fb.AffineCoupling(
        net,
        num_masked=num_masked,
        event_ndims=len(event_shape),
        scale_activation=act,
        affine_direction=direction,
        name=name,
    )


def _additive(event_shape, num_masked, seed, cond_ch=0):
    channels = event_shape[-1]
    k = channels // 2 if num_masked is None else num_masked
    n_cond = k if k > 0 else -k
    net = RandomNet(n_cond, channels - n_cond, 1, len(event_shape) == 3, cond_ch, seed)
    return lambda dtype=None: fb.AdditiveCoupling(
        net, num_masked=num_masked, event_ndims=len(event_shape)
    )


def multiscale_chain():
    """Glow-style multi-scale flow, latent `[2, 2, 8]` -> data `[4, 4, 2]`.

    Data to latent: squeeze -> actnorm -> 1x1 conv -> affine coupling -> split,
    where the factored-out half gets the learned prior `z2 = mu(h1) + sigma(h1) eps2`
    (an exp AffineCoupling conditioned on the kept half) and the kept half goes
    through a deeper level (actnorm -> 1x1 conv -> additive coupling).
    """
    net_step = RandomNet(4, 4, 2, image=True, seed=11)
    net_prior = RandomNet(4, 4, 2, image=True, seed=12)
    net_inner = RandomNet(2, 2, 1, image=True, seed=13)

    def build(dtype=tf.float64):
        inner = tfb.Chain(
            [
                actnorm(4, 21, dtype),
                conv1x1(4, 22, dtype),
                fb.AdditiveCoupling(net_inner, num_masked=-2, event_ndims=3),
            ]
        )
        return tfb.Chain(
            [
                tfb.Invert(fb.Squeeze()),
                actnorm(8, 23, dtype),
                conv1x1(8, 24, dtype),
                fb.AffineCoupling(net_step, num_masked=4, event_ndims=3),
                fb.AffineCoupling(net_prior, num_masked=4, event_ndims=3, scale_activation="exp"),
                fb.MultiScaleSplit(inner),
            ]
        )

    return build


def realnvp_chain():
    """Dense RealNVP-like chain on `[6]`: couplings, permutations, actnorm, 1x1 'conv'."""
    nets = [RandomNet(3, 3, 2, seed=31), RandomNet(2, 4, 2, seed=32), RandomNet(3, 3, 1, seed=33)]
    perm = np.random.RandomState(34).permutation(6).astype(np.int32)

    def build(dtype=tf.float64):
        return tfb.Chain(
            [
                fb.AffineCoupling(nets[0], num_masked=3),
                tfb.Permute(perm),
                actnorm(6, 35, dtype),
                fb.AffineCoupling(nets[1], num_masked=-2, scale_activation="sigmoid"),
                tfb.Permute(perm[::-1].copy()),
                conv1x1(6, 36, dtype),
                fb.AdditiveCoupling(nets[2], num_masked=3),
                fb.AffineCoupling(nets[0], num_masked=-3, scale_activation="exp"),
            ]
        )

    return build


def _multi_scale_split_alone():
    net = RandomNet(2, 2, 2, image=True, seed=41)
    return lambda dtype=tf.float64: fb.MultiScaleSplit(
        tfb.Chain([actnorm(4, 42, dtype), fb.AffineCoupling(net, num_masked=2, event_ndims=3)]),
        num_kept=4,
    )


VEC, IMG, IMG_DEEP = (6,), (4, 4, 2), (2, 2, 4)

CASES = [
    Case(
        "actnorm_vec", lambda dtype=tf.float64: actnorm(6, 1, dtype), VEC, 1, constant_jacobian=True
    ),
    Case(
        "actnorm_img", lambda dtype=tf.float64: actnorm(2, 2, dtype), IMG, 3, constant_jacobian=True
    ),
    Case(
        "conv1x1_vec", lambda dtype=tf.float64: conv1x1(6, 3, dtype), VEC, 1, constant_jacobian=True
    ),
    Case(
        "conv1x1_img",
        lambda dtype=tf.float64: conv1x1(4, 4, dtype),
        IMG_DEEP,
        3,
        constant_jacobian=True,
    ),
    Case("affine_tanh_vec", _affine(VEC, None, "tanh", 5), VEC, 1),
    Case("affine_sigmoid_vec_pos", _affine(VEC, 2, "sigmoid", 6), VEC, 1),
    Case("affine_exp_vec_neg", _affine(VEC, -2, "exp", 7), VEC, 1),
    Case("affine_tanh_img", _affine(IMG, None, "tanh", 8), IMG, 3),
    Case("affine_sigmoid_img_neg", _affine(IMG_DEEP, -1, "sigmoid", 9), IMG_DEEP, 3),
    Case("affine_exp_img_cond", _affine(IMG, 1, "exp", 10, cond_ch=3), IMG, 3, (4, 4, 3)),
    # Glow's coupling and prior scales with bounded sampling-direction factors.
    Case("affine_contracting_img", _affine(IMG_DEEP, None, "contracting", 20), IMG_DEEP, 3),
    Case(
        "affine_capped_exp_img_cond",
        _affine(IMG, 1, "capped_exp", 21, cond_ch=3),
        IMG,
        3,
        (4, 4, 3),
    ),
    Case("affine_tanh_vec_cond", _affine(VEC, -3, "tanh", 11, cond_ch=4), VEC, 1, (4,)),
    # GLF's section 3.1 / FrEIA couplings: `x_b exp(s) + t` data to latent, atan clamp.
    Case("affine_atan_vec_inverse", _affine(VEC, -2, "atan", 18, direction="inverse"), VEC, 1),
    Case(
        "affine_tanh_img_cond_inverse",
        _affine(IMG, 1, "tanh", 19, cond_ch=2, direction="inverse"),
        IMG,
        3,
        (4, 4, 2),
    ),
    Case("additive_vec_neg", _additive(VEC, -4, 12), VEC, 1, constant_jacobian=True),
    Case("additive_img", _additive(IMG_DEEP, None, 13), IMG_DEEP, 3, constant_jacobian=True),
    Case(
        "additive_img_cond",
        _additive(IMG, 1, 14, cond_ch=2),
        IMG,
        3,
        (4, 4, 2),
        constant_jacobian=True,
    ),
    Case("squeeze", lambda dtype=None: fb.Squeeze(), IMG, 3, constant_jacobian=True),
    Case(
        "unsqueeze",
        lambda dtype=None: tfb.Invert(fb.Squeeze()),
        IMG_DEEP,
        3,
        constant_jacobian=True,
    ),
    Case(
        "cond_affine_vec",
        lambda dtype=None: fb.ConditionalAffine(CondOnlyNet(4, 6, seed=15)),
        VEC,
        1,
        (4,),
    ),
    Case(
        "cond_affine_vec_bcast_scale",
        lambda dtype=None: fb.ConditionalAffine(CondOnlyNet(4, 6, scale_units=1, seed=16)),
        VEC,
        1,
        (4,),
    ),
    Case(
        "cond_affine_img",
        lambda dtype=None: fb.ConditionalAffine(CondOnlyNet(3, 4, seed=17), event_ndims=3),
        IMG_DEEP,
        3,
        (2, 2, 3),
    ),
    Case("multi_scale_split", _multi_scale_split_alone(), IMG_DEEP, 3),
    Case("multiscale_chain", multiscale_chain(), (2, 2, 8), 3),
    Case("realnvp_chain", realnvp_chain(), VEC, 1),
]
CASE_IDS = [c.name for c in CASES]
IMAGE_CASES = [c for c in CASES if c.image]
# Compiling is the slow part of the suite: the XLA test skips cases whose
# bijectors and code paths are already compiled as parts of other cases
# (mostly of `realnvp_chain` and `multiscale_chain`).
_XLA_REDUNDANT = {
    "actnorm_vec",
    "conv1x1_vec",
    "affine_tanh_vec",
    "affine_exp_vec_neg",
    "affine_tanh_img",
    "additive_vec_neg",
    "additive_img",
    "cond_affine_vec",
    "affine_tanh_img_cond_inverse",
}
XLA_CASES = [c for c in CASES if c.name not in _XLA_REDUNDANT]


def _normal(shape, dtype=np.float64, seed=0, scale=1.0):
    return tf.constant(np.random.RandomState(seed).normal(size=shape) * scale, dtype)


def _fresh(t):
    """A new tensor object with the same value: never a cache key seen before."""
    return tf.identity(t)


def _call(bij, method, value, event_ndims=None, **kwargs):
    fn = getattr(bij, method)
    if event_ndims is None:
        return fn(value, **kwargs)
    return fn(value, event_ndims=event_ndims, **kwargs)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == tf.float32 else dict(rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Sanity of the cases themselves: the parameters are not the identity.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", [c for c in CASES if "squeeze" not in c.name], ids=lambda c: c.name
)
def test_case_is_not_identity(case):
    x = _normal((3, *case.event_shape))
    y = case.build().forward(x, **case.kwargs((3,), tf.float64))
    if case.name == "multiscale_chain":  # latent [2, 2, 8] -> data [4, 4, 2]
        x = tf.nn.depth_to_space(x, 2)
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) > 1e-2


# --------------------------------------------------------------------------------------------
# Round trips and log-det consistency.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_round_trips_without_cache(case):
    batch = (3,)
    kw = case.kwargs(batch, tf.float64)
    x = _normal(batch + case.event_shape, seed=1)
    y = _fresh(case.build().forward(x, **kw))
    x_back = case.build().inverse(y, **kw)
    np.testing.assert_allclose(x_back, x, rtol=1e-10, atol=1e-10)

    y0 = _normal(batch + case.out_event_shape(), seed=2)
    x0 = _fresh(case.build().inverse(y0, **kw))
    y_back = case.build().forward(x0, **kw)
    np.testing.assert_allclose(y_back, y0, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_log_det_is_minus_inverse_log_det(case):
    batch = (3,)
    kw = case.kwargs(batch, tf.float64)
    nd = case.event_ndims
    x = _normal(batch + case.event_shape, seed=3)
    bij = case.build()
    y = bij.forward(x, **kw)
    # Through the cache (the log-det stored by the forward pass) ...
    fldj_cached = bij.forward_log_det_jacobian(x, event_ndims=nd, **kw)
    ildj_cached = bij.inverse_log_det_jacobian(y, event_ndims=nd, **kw)
    # ... and computed from scratch by new instances on new tensors.
    fldj = case.build().forward_log_det_jacobian(_fresh(x), event_ndims=nd, **kw)
    ildj = case.build().inverse_log_det_jacobian(_fresh(y), event_ndims=nd, **kw)
    for value in (fldj_cached, -ildj_cached, -ildj):
        np.testing.assert_allclose(*np.broadcast_arrays(value, fldj), rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------------------------
# Log-det against the autodiff Jacobian.
# --------------------------------------------------------------------------------------------


def _autodiff_log_det(fn, x, event_shape):
    """`log|det d fn(x) / dx|` per batch member of `x` `[B, *event_shape]`."""
    batch = x.shape[0]
    flat = tf.reshape(x, [batch, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        out = fn(tf.reshape(flat, (batch, *event_shape)))
        out_flat = tf.reshape(out, [batch, -1])
    jac = tape.batch_jacobian(out_flat, flat)
    assert jac.shape == (batch, flat.shape[1], flat.shape[1])
    sign, logabsdet = tf.linalg.slogdet(jac)
    assert np.all(sign != 0)
    return logabsdet


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_log_det_matches_autodiff_jacobian(case):
    batch = (2,)
    kw = case.kwargs(batch, tf.float64)
    nd = case.event_ndims
    x = _normal(batch + case.event_shape, seed=4)
    expected = _autodiff_log_det(lambda v: case.build().forward(v, **kw), x, case.event_shape)
    fldj = case.build().forward_log_det_jacobian(x, event_ndims=nd, **kw)
    np.testing.assert_allclose(np.broadcast_to(fldj, batch), expected, rtol=1e-9, atol=1e-9)

    y = _normal(batch + case.out_event_shape(), seed=5)
    expected = _autodiff_log_det(lambda v: case.build().inverse(v, **kw), y, case.out_event_shape())
    ildj = case.build().inverse_log_det_jacobian(y, event_ndims=nd, **kw)
    np.testing.assert_allclose(np.broadcast_to(ildj, batch), expected, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Batch shapes.
# --------------------------------------------------------------------------------------------


def _batch_shapes(case):
    return [(), (3,), (2, 3)] if "squeeze" in case.name else [(), (3,)]


@pytest.mark.parametrize(
    "case,batch",
    [(c, b) for c in CASES for b in _batch_shapes(c)],
    ids=[f"{c.name}-{b}" for c in CASES for b in _batch_shapes(c)],
)
def test_batch_shapes(case, batch):
    kw = case.kwargs(batch, tf.float64)
    nd = case.event_ndims
    out_event = case.out_event_shape()
    x = _normal(batch + case.event_shape, seed=6)
    y = case.build().forward(x, **kw)
    assert tuple(y.shape) == batch + out_event
    x_back = case.build().inverse(_fresh(y), **kw)
    assert tuple(x_back.shape) == batch + case.event_shape
    np.testing.assert_allclose(x_back, x, rtol=1e-10, atol=1e-10)

    fldj = case.build().forward_log_det_jacobian(x, event_ndims=nd, **kw)
    ildj = case.build().inverse_log_det_jacobian(_fresh(y), event_ndims=nd, **kw)
    for ldj in (fldj, ildj):
        if case.constant_jacobian:
            # TFP convention: a constant log-det may stay unbroadcast.
            assert np.broadcast_shapes(tuple(ldj.shape), batch) == batch
        else:
            assert tuple(ldj.shape) == batch

    # Each batch member is transformed as if it were alone.
    if batch:
        flat_x = tf.reshape(x, (-1, *case.event_shape))
        flat_c = {k: tf.reshape(v, (-1, *case.cond_shape)) for k, v in kw.items()}
        flat_y = tf.reshape(y, (-1, *out_event))
        flat_ldj = tf.reshape(tf.broadcast_to(fldj, batch), [-1])
        for i in range(flat_x.shape[0]):
            kw_i = {k: v[i] for k, v in flat_c.items()}
            y_i = case.build().forward(flat_x[i], **kw_i)
            ldj_i = case.build().forward_log_det_jacobian(flat_x[i], event_ndims=nd, **kw_i)
            np.testing.assert_allclose(y_i, flat_y[i], rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(ldj_i, flat_ldj[i], rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------------------------
# Eager, tf.function and XLA agree.
# --------------------------------------------------------------------------------------------


def _all_directions(case, x, y, kw):
    """Forward, inverse and both log-dets, each from a new instance (as Keras layers do)."""
    nd, dt = case.event_ndims, x.dtype
    return (
        case.build(dt).forward(x, **kw),
        case.build(dt).forward_log_det_jacobian(x, event_ndims=nd, **kw),
        case.build(dt).inverse(y, **kw),
        case.build(dt).inverse_log_det_jacobian(y, event_ndims=nd, **kw),
    )


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", XLA_CASES, ids=[c.name for c in XLA_CASES])
def test_eager_function_and_xla_agree(case, dtype):
    batch = (2,)
    kw = case.kwargs(batch, dtype)
    x = _normal(batch + case.event_shape, dtype, seed=8)
    y = _normal(batch + case.out_event_shape(), dtype, seed=9)

    eager = _all_directions(case, x, y, kw)

    def run(x, y, kw):
        return _all_directions(case, x, y, kw)

    graph = tf.function(run)(x, y, kw)
    xla = tf.function(run, jit_compile=True)(x, y, kw)
    for e, g, j in zip(eager, graph, xla):
        assert e.dtype == g.dtype == j.dtype == dtype
        assert e.shape == g.shape == j.shape
        np.testing.assert_allclose(g, e, **_tol(dtype))
        np.testing.assert_allclose(j, e, **_tol(dtype))
    # Not a vacuous comparison: the forward map is not the identity here.
    if "squeeze" not in case.name and eager[0].shape == x.shape:
        assert np.max(np.abs(eager[0] - x)) > 1e-2


# --------------------------------------------------------------------------------------------
# Unknown batch size.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c.name for c in IMAGE_CASES])
def test_unknown_batch_size_traces_and_runs(case):
    nd = case.event_ndims
    out_event = case.out_event_shape()
    signature = [tf.TensorSpec([None, *case.event_shape], tf.float32)]
    if case.cond_shape is not None:
        signature.append(tf.TensorSpec([None, *case.cond_shape], tf.float32))

    @tf.function(input_signature=signature)
    def round_trip(x, c=None):
        kw = {} if c is None else {"conditional_input": c}
        f32 = tf.float32
        y = case.build(f32).forward(x, **kw)
        fldj = case.build(f32).forward_log_det_jacobian(x, event_ndims=nd, **kw)
        x_back = case.build(f32).inverse(tf.identity(y), **kw)
        ildj = case.build(f32).inverse_log_det_jacobian(tf.identity(y), event_ndims=nd, **kw)
        return y, fldj, x_back, ildj

    concrete = round_trip.get_concrete_function()
    assert concrete.structured_outputs[0].shape.as_list() == [None, *out_event]
    for n in (1, 5):
        args = [_normal((n, *case.event_shape), tf.float32, seed=n)]
        if case.cond_shape is not None:
            args.append(case.kwargs((n,), tf.float32)["conditional_input"])
        y, fldj, x_back, ildj = round_trip(*args)
        assert tuple(y.shape) == (n, *out_event)
        np.testing.assert_allclose(x_back, args[0], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(*np.broadcast_arrays(fldj, -ildj), rtol=1e-4, atol=1e-4)
    assert round_trip.experimental_get_tracing_count() == 1


# --------------------------------------------------------------------------------------------
# Conditioned: the one way a conditioning is fixed.
# --------------------------------------------------------------------------------------------


def test_conditioned_is_the_bijector_with_its_keywords_and_composes():
    img = (4, 4, 2)
    first = _affine(img, 1, "exp", 10, cond_ch=3)()
    second = _additive(img, 1, 14, cond_ch=3)()
    c = _normal((3, 4, 4, 3), seed=5)
    x = _normal((3, *img), seed=6)
    bound = fb.Conditioned(first, conditional_input=c)
    assert bound.forward_min_event_ndims == 3 and bound.conditioning.keys() == {"conditional_input"}
    np.testing.assert_allclose(bound.forward(x), first.forward(x, conditional_input=c))
    np.testing.assert_allclose(
        bound.inverse_log_det_jacobian(_fresh(x), 3),
        first.inverse_log_det_jacobian(_fresh(x), 3, conditional_input=c),
    )
    # In a chain, each part with its conditioning: no bijector_kwargs routed by name.
    chain = fb.FlowChain(
        [fb.Conditioned(first, conditional_input=c), fb.Conditioned(second, conditional_input=c)],
        event_ndims=3,
    )
    y = _fresh(chain.forward(x))
    np.testing.assert_allclose(chain.inverse(y), x, rtol=1e-10, atol=1e-10)
    expected = second.forward(x, conditional_input=c)
    expected = first.forward(expected, conditional_input=c)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    middle = second.forward(x, conditional_input=c)
    np.testing.assert_allclose(
        chain.forward_log_det_jacobian(_fresh(x), 3),
        second.forward_log_det_jacobian(_fresh(x), 3, conditional_input=c)
        + first.forward_log_det_jacobian(_fresh(middle), 3, conditional_input=c),
        rtol=1e-10,
    )
    # The conditioning matters: another c gives another map.
    other = fb.Conditioned(first, conditional_input=c + 1.0)
    assert np.max(np.abs(other.forward(x) - bound.forward(x))) > 1e-3


def test_conditioned_rejects_what_cannot_work():
    coupling = _affine((4, 4, 2), 1, "exp", 10, cond_ch=3)()
    with pytest.raises(ValueError, match=r"affine_coupling.*event_ndims=1"):
        fb.Conditioned(coupling, event_ndims=1, conditional_input=_normal((1, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"affine_coupling.*\['conditional_input'\] are None"):
        fb.Conditioned(coupling, validate_args=True, conditional_input=None)
    # Still usable afterwards.
    c = _normal((2, 4, 4, 3))
    y = fb.Conditioned(coupling, conditional_input=c).forward(_normal((2, 4, 4, 2)))
    assert y.shape == (2, 4, 4, 2)
