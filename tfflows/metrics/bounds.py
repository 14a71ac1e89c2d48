"""Likelihood bounds for latent-variable models: the ELBO and the importance-weighted bound.

With log-weights `log w_k = log p(x, z_k) - log q(z_k | x)`, `z_k ~ q(z | x)`:

    ELBO      = E_q[log w]                          (Kingma & Welling, 2014)
    IW_K      = E[log (1/K) sum_k w_k]              (Burda et al., 2016, eq. 8)

`ELBO = IW_1 <= IW_K <= IW_{K+1} <= log p(x)`, and `IW_K -> log p(x)` as K grows. The
estimate of `log mean exp` uses `reduce_logsumexp` (max-shifted), so weights of
-1e4 nats do not underflow. Each value is returned with the name of its bound, so every
reported number says which bound it is (`str(bound)` -> "IW bound (K=64): ...").
"""

from typing import NamedTuple

import tensorflow as tf

from tfflows.metrics.likelihood import bits_per_dim

__all__ = [
    "Bound",
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
    """`log(mean(exp(x), axis))`, computed stably as `logsumexp(x) - log K`."""
    x = tf.convert_to_tensor(x)
    count = tf.cast(tf.shape(x)[axis], x.dtype)
    return tf.reduce_logsumexp(x, axis=axis) - tf.math.log(count)


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


def tiled_importance_weighted_bound(log_weights_fn, x, num_samples):
    """`IW_K` per example of a batch `x` `[N, ...]`, one forward pass over K tiled copies.

    `log_weights_fn` maps the sample-major tiling (row `k * N + n` is example n with
    its k-th latent sample) to the `[K * N]` log-weights `log p(x, z) - log q(z | x)`,
    drawing the K * N latents itself.
    """
    k = int(num_samples)
    x = tf.convert_to_tensor(x)
    multiples = tf.concat([[k], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
    log_weights = log_weights_fn(tf.tile(x, multiples))
    return importance_weighted_bound(tf.reshape(log_weights, [k, tf.shape(x)[0]]))
