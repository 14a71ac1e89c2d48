"""Variational dequantization (Flow++, Ho et al., ICML 2019, section 3.1, eq. 11-12).

Uniform dequantization fills each n-bit bin with `u ~ U[0, 1)^D`. Flow++ learns the
noise instead, as a conditional flow `q(u | x)` on `(0, 1)^D`:

    eps ~ N(0, I)                       [H, W, C]
    v   = g(eps; h(x))                  K Glow steps after one squeeze (no split)
    u   = sigmoid(v)

where every coupling of `g` sees the context `h(x)`, two 3x3 convolutions of the image's
bin centres (Flow++ conditions every coupling of its dequantizer on features of x). By
the change of variables

    log q(u | x) = log N(eps; 0, I) - log|det dg/deps| - sum_i log sigmoid'(v_i),
    log sigmoid'(v) = log sigmoid(v) + log(1 - sigmoid(v)) = -softplus(-v) - softplus(v).

Inverse (`log_prob`): `v = logit(u)`, `eps = g^-1(v; h(x))`, and the same density read
the other way. The model-space value is `y = (x_n + u) / 2^n - 1/2`, as under uniform
dequantization, and (eq. 11-12, in nats of the discrete n-bit image `x_n`)

    log P(x) = log E_{q(u|x)}[p(y) / q(u | x)] - D n log 2
            >= E_{q(u|x)}[log p(y) - log q(u | x)] - D n log 2,

the bound a flow with `dequantization="variational"` reports and trains on (one `u` per
image), and `log (1/K) sum_k p(y_k) / q(u_k | x) - D n log 2` its importance-weighted
bound with K samples (`GenerativeModel.log_prob(..., num_importance_samples=K)`).

`g` is the data-to-latent direction of `self.flow` (`flow.inverse`): the direction
a mixture-of-logistics coupling computes in closed form, so sampling `u` (every
training step) needs no bisection, as in Flow++, whose dequantizer has the same
couplings and networks as its flow (`coupling`, `network`). `log_prob` of a given
`u` runs `flow.forward`.

The couplings' last layers start at zero ("tanh" scale) and the 1x1 convolutions at
rotations, so a new `q` is `sigmoid(N(0, I))`, whatever the image. With `base="logistic"`
(`eps = logit(U)`, `U ~ U[0, 1)` drawn as uniform dequantization draws it), `g` the
identity gives `u = U` and `log q = 0`: exactly uniform dequantization, which the tests use.
"""

import math

import keras
import tensorflow as tf

from tfflows.data.dequantization import (
    example_seeds,
    per_example_noise,
    stream_seeds,
    variational_seeds,
)
from tfflows.data.preprocessing import reduce_bits
from tfflows.layers.multi_scale_flow import MultiScaleFlow

__all__ = ["DEQUANTIZATIONS", "VariationalDequantization", "make_dequantizer"]

#: The values of every flow model's `dequantization` argument.
DEQUANTIZATIONS = ("uniform", "variational")
_BASES = ("normal", "logistic")
_EVENT_AXES = [-3, -2, -1]


def _log_sigmoid_derivative(v):
    """`log sigmoid'(v) = -softplus(-v) - softplus(v)`, elementwise (also the logistic log-pdf)."""
    return -tf.nn.softplus(-v) - tf.nn.softplus(v)


def _log_normal(eps):
    return -0.5 * (tf.square(eps) + tf.constant(math.log(2.0 * math.pi), eps.dtype))


@keras.saving.register_keras_serializable(package="tfflows")
class VariationalDequantization(keras.layers.Layer):
    """`q(u | x)` as `u = sigmoid(g(eps; h(x)))`; `call` returns `(y, log q(u | x))`.

    `call(images, seed=None)`: 8-bit uint8 images `[N, H, W, C]` to the dequantized
    model-space `y` and `log q(u | x)` per example, in the variable dtype. `seed` is
    None (fresh noise), per-example seeds `[N, 2]` of a sample (the model's stream
    `1 + k`; `eps` comes from `data.variational_seeds` of them), or an int: stream 1 of
    `data.example_seeds(images, seed)`, as a model's bound with that seed uses.

    Args:
      image_shape: `(H, W, C)`, H and W even (one squeeze).
      num_bits: n, the bit depth the model sees.
      num_steps: K, Glow steps of `g` (0: `g` is the identity).
      hidden_units: width of the coupling networks and of the context network.
      context_channels: channels of the context `h(x)`.
      base: "normal" (Flow++) or "logistic" (with `g = id`, exactly uniform).
      seed: seed of the 1x1 convolutions' initial rotations.
      coupling: `g`'s couplings, "affine" (tanh scale: a new `g` is the identity),
        "additive" or "mixlogistic" (Flow++'s dequantizer).
      network: `g`'s coupling networks, "conv" or "gated" (Flow++'s; see `MultiScaleFlow`).
      num_hidden_layers: blocks of the "gated" networks.
    """

    def __init__(
        self,
        image_shape,
        num_bits=8,
        num_steps=4,
        hidden_units=64,
        context_channels=16,
        base="normal",
        seed=None,
        coupling="affine",
        network="conv",
        num_hidden_layers=2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_bits = int(num_bits)
        self.num_steps = int(num_steps)
        self.hidden_units = int(hidden_units)
        self.context_channels = int(context_channels)
        if base not in _BASES:
            raise ValueError(f"base must be one of {_BASES}, got {base!r}.")
        if self.num_steps < 0 or self.hidden_units < 1 or self.context_channels < 1:
            raise ValueError(
                "num_steps (a model's dequantization_steps) must be >= 0, hidden_units and "
                "context_channels (dequantization_hidden_units, _context_channels) >= 1, got "
                f"{num_steps}, {hidden_units}, {context_channels}."
            )
        self.base, self.seed = base, seed
        self.coupling, self.network = coupling, network
        self.num_hidden_layers = int(num_hidden_layers)
        height, width, _ = self.image_shape
        conv = dict(kernel_size=3, padding="same", dtype=self.dtype_policy)
        self.context_in = keras.layers.Conv2D(self.hidden_units, activation="relu", **conv)
        self.context_out = keras.layers.Conv2D(self.context_channels, **conv)
        self.context_in.build((None, *self.image_shape))
        self.context_out.build((None, height, width, self.hidden_units))
        self.flow = MultiScaleFlow(
            self.image_shape,
            num_levels=1,
            num_steps=self.num_steps,
            hidden_units=self.hidden_units,
            coupling=coupling,
            scale_activation="tanh",
            network=network,
            num_hidden_layers=self.num_hidden_layers,
            split=False,
            conditional_shape=(height, width, self.context_channels),
            seed=seed,
            name="flow",
            dtype=self.dtype_policy,
        )
        self.built = True  # every weight exists now

    def bins(self, images):
        """`x_n = x // 2^(8-n)` of uint8 8-bit images, as floats of the variable dtype."""
        return tf.cast(reduce_bits(images, self.num_bits), self.variable_dtype)

    def context(self, images):
        """`h(x)`: features of the bin centres `(x_n + 1/2) / 2^n - 1/2`."""
        centres = (self.bins(images) + 0.5) / float(2**self.num_bits) - 0.5
        return self.context_out(self.context_in(centres))

    def base_noise(self, batch_size, seeds=None):
        """`(eps, log p(eps))`: `[N, H, W, C]` base noise from per-example seeds (None: fresh)."""
        shape = tf.concat([tf.reshape(batch_size, [1]), self.image_shape], axis=0)
        dtype = self.variable_dtype
        if self.base == "normal":
            if seeds is None:
                eps = tf.random.normal(shape, dtype=dtype)
            else:
                eps = per_example_noise(seeds, self.image_shape, "normal", dtype)
            return eps, self.base_log_prob(eps)
        # Logistic: eps = logit(U), U drawn in float32 as uniform dequantization draws it.
        if seeds is None:
            uniform = tf.random.uniform(shape, dtype=tf.float32)
        else:
            uniform = per_example_noise(seeds, self.image_shape, "uniform", tf.float32)
        uniform = tf.clip_by_value(tf.cast(uniform, dtype), 2.0**-24, 1.0 - 2.0**-24)
        eps = tf.math.log(uniform) - tf.math.log1p(-uniform)
        return eps, self.base_log_prob(eps)

    def base_log_prob(self, eps):
        """`log p(eps)` per example: standard normal, or standard logistic."""
        log_density = _log_normal if self.base == "normal" else _log_sigmoid_derivative
        return tf.reduce_sum(log_density(eps), axis=_EVENT_AXES)

    def noise_and_log_det(self, eps, images):
        """`u = sigmoid(g(eps; h(x)))` and `log|det du/deps|` per example."""
        v, log_det = self.flow.inverse_and_log_det(eps, self.context(images))
        return tf.sigmoid(v), log_det + tf.reduce_sum(_log_sigmoid_derivative(v), _EVENT_AXES)

    def model_space(self, images, u):
        """`y = (x_n + u) / 2^n - 1/2`."""
        return (self.bins(images) + u) / float(2**self.num_bits) - 0.5

    def log_prob(self, u, images):
        """`log q(u | x)` of given noise `u` in `(0, 1)`, through the inverse of `g`."""
        u = tf.cast(u, self.variable_dtype)
        v = tf.math.log(u) - tf.math.log1p(-u)
        eps, log_det = self.flow.forward_and_log_det(v, self.context(images))
        log_sigmoid_det = tf.reduce_sum(_log_sigmoid_derivative(v), _EVENT_AXES)
        return self.base_log_prob(eps) + log_det - log_sigmoid_det

    def call(self, images, seed=None):
        images = tf.convert_to_tensor(images)
        if seed is not None:
            seed = tf.convert_to_tensor(seed)
            if seed.shape.rank != 2:  # the stream a model's bound with this seed uses
                seed = stream_seeds(example_seeds(images, seed), [1])[0]
            seed = variational_seeds(seed)
        eps, log_base = self.base_noise(tf.shape(images)[0], seed)
        u, log_det = self.noise_and_log_det(eps, images)
        return self.model_space(images, u), log_base - log_det

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "num_bits": self.num_bits,
            "num_steps": self.num_steps,
            "hidden_units": self.hidden_units,
            "context_channels": self.context_channels,
            "base": self.base,
            "seed": self.seed,
            "coupling": self.coupling,
            "network": self.network,
            "num_hidden_layers": self.num_hidden_layers,
        }


def make_dequantizer(
    dequantization,
    image_shape,
    num_bits,
    steps,
    hidden_units,
    context_channels,
    seed=None,
    dtype=None,
    coupling="affine",
    network="conv",
    num_hidden_layers=2,
):
    """A flow model's dequantizer: None for "uniform", a `VariationalDequantization` otherwise.

    `coupling`, `network` and `num_hidden_layers` are the model's own (Flow++
    builds its dequantizer from the same parts as its flow).
    """
    if dequantization not in DEQUANTIZATIONS:
        raise ValueError(
            f"dequantization must be one of {DEQUANTIZATIONS}, got {dequantization!r}."
        )
    if dequantization == "uniform":
        return None
    return VariationalDequantization(
        image_shape,
        num_bits=num_bits,
        num_steps=steps,
        hidden_units=hidden_units,
        context_channels=context_channels,
        seed=seed,
        coupling=coupling,
        network=network,
        num_hidden_layers=num_hidden_layers,
        name="dequantizer",
        dtype=dtype,
    )
