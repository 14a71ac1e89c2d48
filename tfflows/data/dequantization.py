"""Uniform dequantization (Theis et al., 2016; Uria et al., 2013; as used by RealNVP/Glow).

A density `p` on model space fitted to `y = (x + u) / 2^n - 0.5`, `u ~ U[0, 1)^D`, gives a
lower bound on the discrete log-likelihood of the n-bit image `x`:

    log P(x) = log ∫_{[0,1)^D} p((x + u) / 2^n - 0.5) 2^{-nD} du
             >= E_u[log p(y)] - D n log 2           (Jensen),

which `tfflows.metrics.discrete_log_likelihood` computes. Variational dequantization
(Flow++, Ho et al., 2019) replaces `U[0, 1)` by a learned flow; it ships with VFlow.
"""

import tensorflow as tf

from tfflows.data.preprocessing import scale_images

__all__ = ["uniform_dequantize"]


def uniform_dequantize(images_uint8, num_bits=8, seed=None):
    """Returns float32 `y = (x + u) / 2^n - 0.5` in [-0.5, 0.5), `u ~ U[0, 1)` per element.

    Args:
      images_uint8: integer images already in `0..2^n - 1` (use `reduce_bits` first for
        n < 8; this function does not reduce, so it can be applied to reduced data twice
        without changing its meaning).
      num_bits: n, the bit depth of `images_uint8`.
      seed: None (stateful `tf.random.uniform`), an int, or a shape-[2] int tensor for
        `tf.random.stateless_uniform` — the stateless form is reproducible and traceable.
    """
    images = tf.convert_to_tensor(images_uint8)
    shape = tf.shape(images)
    if seed is None:
        noise = tf.random.uniform(shape, dtype=tf.float32)
    else:
        seed = tf.convert_to_tensor(seed)
        if seed.shape.rank == 0:
            seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        noise = tf.random.stateless_uniform(shape, seed=seed, dtype=tf.float32)
    return scale_images(images, num_bits=num_bits, scale="centered", noise=noise)
