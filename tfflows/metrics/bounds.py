"""Likelihood bounds for latent-variable models: the ELBO and the importance-weighted bound.

With log-weights `log w_k = log p(x, z_k) - log q(z_k | x)`, `z_k ~ q(z | x)`:

    ELBO      = E_q[log w]                          (Kingma & Welling, 2014)
    IW_K      = E[log (1/K) sum_k w_k]              (Burda et al., 2016, eq. 8)

`ELBO = IW_1 <= IW_K <= IW_{K+1} <= log p(x)`, and `IW_K -> log p(x)` as K grows. The
estimate of `log mean exp` is `tfp.math.reduce_logmeanexp` (max-shifted), so weights of
-1e4 nats do not underflow. `chunked_importance_weighted_bound` streams that
`logsumexp` over chunks of the K samples (`lse <- logsumexp(lse, logsumexp(chunk))`), so
memory is bounded by one chunk for any K (VFlow's K = 4096, Burda et al.'s 5,000) and the
value is the one-pass value up to rounding. Each value is returned with the name of its
bound, so every reported number says which bound it is (`str(bound)` -> "IW bound (K=64): ...").
"""

from typing import NamedTuple

import tensorflow as tf
import tensorflow_probability as tfp

from tfflows.metrics.likelihood import bits_per_dim

__all__ = [
    "Bound",
    "chunked_importance_weighted_bound",
    "elbo",
    "importance_weighted_bound",
    "log_mean_exp",
    "tiled_importance_weighted_bound",
]


class Bound(NamedTuple):
    """A likelihood bound: per-example nats, its name and the number of samples K."""

    value: tf.Tensor
    kind: str
    num_samples: int

    def bits_per_dim(self, num_dims):
        """Mean bits/dim of the (discrete-image) bound over the examples."""
        return float(tf.reduce_mean(bits_per_dim(self.value, num_dims)))

    def __str__(self):
        label = "ELBO" if self.kind == "elbo" else f"IW bound (K={self.num_samples})"
        return f"{label}: {float(tf.reduce_mean(self.value)):.4f} nats"


def log_mean_exp(x, axis=0):
    """`log(mean(exp(x), axis))` = `logsumexp(x) - log K`: `tfp.math.reduce_logmeanexp`."""
    return tfp.math.reduce_logmeanexp(x, axis=axis)


def elbo(log_weights, axis=0):
    """ELBO per example: the mean of the K log-weights along `axis` (the sample axis)."""
    log_weights = tf.convert_to_tensor(log_weights)
    return Bound(tf.reduce_mean(log_weights, axis=axis), "elbo", int(log_weights.shape[axis]))


def importance_weighted_bound(log_weights, axis=0):
    """Importance-weighted bound `IW_K` per example, K = `log_weights.shape[axis]`."""
    log_weights = tf.convert_to_tensor(log_weights)
    k = int(log_weights.shape[axis])
    if k < 1:
        raise ValueError("importance_weighted_bound needs at least one sample.")
    return Bound(log_mean_exp(log_weights, axis=axis), "iw", k)


def chunked_importance_weighted_bound(chunk_log_weights_fn, num_samples, samples_per_chunk):
    """`IW_K` per example, K = `num_samples`, from the log-weights of one chunk at a time.

    `chunk_log_weights_fn(first, count)` returns the `[count, N]` log-weights of samples
    `first, ..., first + count - 1` (`first` an int32 scalar tensor, `count` a Python int).
    A `tf.while_loop` (one iteration at a time) runs the full chunks, then one call
    covers the remainder; a running `logsumexp` per example is all that is kept. For the
    value not to depend on `samples_per_chunk`, sample k must be a function of k alone.
    """
    k, chunk = int(num_samples), int(samples_per_chunk)
    if k < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}.")
    if chunk < 1:
        raise ValueError(f"samples_per_chunk must be at least 1, got {samples_per_chunk}.")
    chunk = min(chunk, k)
    full, rest = divmod(k, chunk)

    # A running logsumexp (`tfp.math.reduce_logmeanexp` needs all K weights at once).
    def add(lse, first, count):
        chunk_lse = tf.reduce_logsumexp(chunk_log_weights_fn(first, count), axis=0)
        return tf.reduce_logsumexp(tf.stack([lse, chunk_lse]), axis=0)

    first = tf.reduce_logsumexp(chunk_log_weights_fn(tf.constant(0), chunk), axis=0)
    _, lse = tf.while_loop(
        lambda i, lse: i < full,
        lambda i, lse: (i + 1, add(lse, i * chunk, chunk)),
        (tf.constant(1), first),
        parallel_iterations=1,  # one chunk's activations alive at a time
    )
    if rest:
        lse = add(lse, tf.constant(full * chunk), rest)
    return Bound(lse - tf.math.log(tf.cast(k, lse.dtype)), "iw", k)


def tiled_importance_weighted_bound(log_weights_fn, x, num_samples, samples_per_chunk=None):
    """`IW_K` per example of a batch `x` `[N, ...]` over tiled copies of it.

    `log_weights_fn` maps a sample-major tiling (row `k * N + n` is example n with
    its k-th latent sample) to the log-weights `log p(x, z) - log q(z | x)` of its
    rows, drawing the latents itself. With `samples_per_chunk` (None: all K at once)
    it sees `samples_per_chunk` copies at a time (`chunked_importance_weighted_bound`).
    """
    k = int(num_samples)
    x = tf.convert_to_tensor(x)
    n = tf.shape(x)[0]

    def chunk_log_weights(first, count):
        del first
        multiples = tf.concat([[count], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
        return tf.reshape(log_weights_fn(tf.tile(x, multiples)), [count, n])

    return chunked_importance_weighted_bound(chunk_log_weights, k, samples_per_chunk or k)
