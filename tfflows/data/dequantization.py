"""Uniform dequantization (Theis et al., 2016; Uria et al., 2013; as used by RealNVP/Glow).

A density `p` on model space fitted to `y = (x + u) / 2^n - 0.5`, `u ~ U[0, 1)^D`, gives a
lower bound on the discrete log-likelihood of the n-bit image `x`:

    log P(x) = log ∫_{[0,1)^D} p((x + u) / 2^n - 0.5) 2^{-nD} du
             >= E_u[log p(y)] - D n log 2           (Jensen),

which `tfflows.metrics.discrete_log_likelihood` computes. Variational dequantization
(Flow++, Ho et al., 2019, section 3.1) replaces `U[0, 1)` by a learned conditional flow
`q(u | x)`: `tfflows.layers.VariationalDequantization`, which every flow model takes as
`dequantization="variational"` (uniform is the default).

Per-example noise. A Monte-Carlo score is only reproducible if each image's noise is a
function of that image and the caller's seed alone, not of the batch it came in or its
position there. `example_seeds(images, seed)` gives every image a stateless seed
`[h_1 ^ s_1, h_2 ^ s_2]`, where `h = W x` is a fixed random integer hash of its pixels
(`W`: two rows of integers below 2^24, so `h < 2^50` for up to 2^18 pixels) and `s` the
caller's seed; `stream_seeds` derives independent streams from it (stream 0: this
dequantization, stream `1 + k`: a latent model's k-th posterior sample, and a variational
dequantizer's k-th `u` from the same stream's seeds with bit 62 of their first word flipped,
`variational_seeds`), and `per_example_noise` draws each row's noise from its own seed.
Stateless RNGs mix their seed through Philox, so nearby seeds give unrelated noise. Two
different images share noise only if both random linear hashes of their difference vanish:
negligibly rarely.
"""

import numpy as np
import tensorflow as tf

from tfflows.data.preprocessing import scale_images

__all__ = [
    "example_seeds",
    "per_example_noise",
    "stream_seeds",
    "uniform_dequantize",
    "variational_seeds",
]

_HASH_WEIGHTS = {}


def _hash_weights(num_dims):
    # A constant of the traced graph (and so of an exported SavedModel): fixed forever.
    if num_dims not in _HASH_WEIGHTS:
        rng = np.random.default_rng(20181203)
        _HASH_WEIGHTS[num_dims] = rng.integers(1, 2**24, size=(num_dims, 2), dtype=np.int64)
    return _HASH_WEIGHTS[num_dims]


def _seed_pair(seed):
    """A scalar or shape-[2] integer seed as an int64 `[2]` tensor."""
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if seed.shape.rank == 0:
        seed = tf.stack([seed, tf.constant(0, tf.int64)])
    return seed


def example_seeds(images, seed):
    """Stateless seeds `[N, 2]` int64, each a function of one image's pixels and `seed` only.

    Args:
      images: integer images `[N, ...]` with a static event shape (0..255).
      seed: an int, an integer scalar tensor, or a shape-[2] integer tensor.
    """
    images = tf.convert_to_tensor(images)
    num_dims = int(np.prod(images.shape[1:]))
    # float64 products (< 2^32) and sums (< 2^50) of integers are exact in any order, so
    # the hash is the same on every device, with or without XLA.
    pixels = tf.cast(tf.reshape(images, [-1, num_dims]), tf.float64)
    hashes = tf.cast(tf.matmul(pixels, tf.constant(_hash_weights(num_dims), tf.float64)), tf.int64)
    return tf.bitwise.bitwise_xor(hashes, _seed_pair(seed)[tf.newaxis])


def stream_seeds(seeds, streams):
    """Seeds `[S, N, 2]` of streams `[S]` (integers) of per-example seeds `[N, 2]`.

    Stream 0 is `seeds` itself; the others flip bits of the second word, so
    every (example, stream) pair has its own seed.
    """
    streams = tf.cast(tf.reshape(streams, [-1, 1, 1]), tf.int64)
    flip = tf.concat([tf.zeros_like(streams), streams], axis=-1)
    return tf.bitwise.bitwise_xor(tf.convert_to_tensor(seeds, tf.int64)[tf.newaxis], flip)


#: Flipped in the first word of a sample's seeds for its variational dequantization noise.
VARIATIONAL_SEED_FLIP = 2**62


def variational_seeds(seeds):
    """The seeds `[N, 2]` of a variational dequantizer's noise for the sample seeded `seeds`.

    A latent sample's own noise (VFlow's `z`) is drawn from `seeds`; its `u ~ q(u | x)`
    from these, which differ in bit 62 of the first word, so the two are independent.
    """
    flip = tf.constant([[VARIATIONAL_SEED_FLIP, 0]], tf.int64)
    return tf.bitwise.bitwise_xor(tf.convert_to_tensor(seeds, tf.int64), flip)


def per_example_noise(seeds, event_shape, distribution="uniform", dtype=tf.float32):
    """Noise `[N, *event_shape]`, row n drawn statelessly from `seeds[n]` alone.

    `distribution` is "uniform" (`U[0, 1)`) or "normal" (`N(0, 1)`). The rows are drawn
    one by one (`tf.map_fn`, which XLA compiles to a loop), so a row never depends on
    how many others there are.
    """
    if distribution not in _DRAW:
        raise ValueError(f"distribution must be 'uniform' or 'normal', got {distribution!r}.")
    seeds = tf.convert_to_tensor(seeds, tf.int64)
    event_shape = tf.cast(event_shape, tf.int32)
    # Eagerly, the loop runs as one graph: op by op it costs ~1 ms a row.
    draw = _draw_rows_traced if tf.executing_eagerly() else _draw_rows
    return draw(seeds, event_shape, distribution, tf.as_dtype(dtype))


_DRAW = {"uniform": tf.random.stateless_uniform, "normal": tf.random.stateless_normal}


def _draw_rows(seeds, event_shape, distribution, dtype):
    return tf.map_fn(
        lambda seed: _DRAW[distribution](event_shape, seed=seed, dtype=dtype),
        seeds,
        fn_output_signature=dtype,
    )


_draw_rows_traced = tf.function(_draw_rows, reduce_retracing=True)


def uniform_dequantize(images_uint8, num_bits=8, seed=None):
    """Returns float32 `y = (x + u) / 2^n - 0.5` in [-0.5, 0.5), `u ~ U[0, 1)` per element.

    Args:
      images_uint8: integer images already in `0..2^n - 1` (use `reduce_bits` first for
        n < 8; this function does not reduce, so it can be applied to reduced data twice
        without changing its meaning).
      num_bits: n, the bit depth of `images_uint8`.
      seed: None (stateful `tf.random.uniform`), an int, or a shape-[2] int tensor for
        `tf.random.stateless_uniform` over the whole batch (reproducible and traceable),
        or per-example seeds `[N, 2]` (`example_seeds`): image n's noise from `seed[n]`.
    """
    images = tf.convert_to_tensor(images_uint8)
    shape = tf.shape(images)
    if seed is None:
        noise = tf.random.uniform(shape, dtype=tf.float32)
    else:
        seed = tf.convert_to_tensor(seed)
        if seed.shape.rank == 2:
            noise = per_example_noise(seed, shape[1:], "uniform", tf.float32)
        else:
            noise = tf.random.stateless_uniform(shape, seed=_seed_pair(seed), dtype=tf.float32)
    return scale_images(images, num_bits=num_bits, scale="centered", noise=noise)
