"""Likelihood units: from a continuous density on model space to nats and bits/dim.

A flow models a density `p(y)` of the scaled image `y = a (x + u) + b` with `x` the
integer image, `u ~ U[0, 1)^D` the dequantization noise and `a` the pixel scale
(`a = 1 / 2^n`, `b = -1/2` in tfflows' model space). The density of `x + u` in
integer units is then `p(y) a^D` (change of variables), so the dequantized bound on the
discrete log-likelihood of `x` (Theis et al., 2016, eq. 12) is

    log P(x) >= log p(y) + D log a           [nats]
              = log p(y) - D n log 2          (a = 2^-n),

and bits/dim = -log P(x) / (D log 2). With `a = 2^-n`, a uniform density on
`[-0.5, 0.5)^D` (log p = 0) gives exactly n bits/dim — the cost of sending n raw bits
per dimension. Papers (RealNVP, Glow, Flow++, VFlow) report this number for 8-bit data.

Under variational dequantization (Flow++, section 3.1, eq. 12; `u ~ q(u | x)`,
`layers.VariationalDequantization`) `log p(y) - log q(u | x)` takes the place of `log p(y)`
and the same `+ D log a` gives that bound: `discrete_log_likelihood` is given either.
"""

import math

import tensorflow as tf

__all__ = [
    "discrete_log_likelihood",
    "bits_per_dim",
    "continuous_to_bits_per_dim",
    "num_dims",
    "pixel_accounting",
]


def num_dims(event_shape):
    """D: the number of dimensions of an image `event_shape` such as `[H, W, C]`."""
    return int(math.prod(int(s) for s in event_shape))


def _log_scale(num_bits, pixel_scale):
    if pixel_scale is None:
        return -num_bits * math.log(2.0)
    if pixel_scale <= 0:
        raise ValueError(f"pixel_scale must be positive, got {pixel_scale}.")
    return math.log(pixel_scale)


def discrete_log_likelihood(log_prob, num_dims, num_bits=8, pixel_scale=None):
    """Log-likelihood in nats of the discrete image from the continuous `log p(y)`.

    Args:
      log_prob: `log p(y)` of the dequantized, scaled images (any shape, e.g. `[B]`).
      num_dims: D, dimensions per image (`num_dims([H, W, C])`).
      num_bits: n, bits per integer pixel; the default scale is `a = 1 / 2^n`.
      pixel_scale: `a` of the affine map `y = a (x + u) + b` if it is not `1 / 2^n`
        (e.g. `1 / 255` or `2 / 256`); the offset `b` does not change the density.

    Returns:
      `log p(y) + D log a` (a lower bound on `log P(x)` under uniform dequantization).
    """
    log_prob = tf.convert_to_tensor(log_prob)
    # tf.constant, not tf.cast: casting a Python float rounds it to float32 first.
    return log_prob + tf.constant(num_dims * _log_scale(num_bits, pixel_scale), log_prob.dtype)


def bits_per_dim(log_likelihood, num_dims):
    """`-log_likelihood / (D log 2)`: nats of the discrete image to bits per dimension."""
    log_likelihood = tf.convert_to_tensor(log_likelihood)
    return -log_likelihood / tf.constant(num_dims * math.log(2.0), log_likelihood.dtype)


def continuous_to_bits_per_dim(log_prob, num_dims, num_bits=8, pixel_scale=None):
    """Bits/dim of the discrete image from the continuous `log p(y)` (the usual number)."""
    return bits_per_dim(
        discrete_log_likelihood(log_prob, num_dims, num_bits, pixel_scale), num_dims
    )


def pixel_accounting(mean_log_likelihood, image_shape, original_shape=None):
    """Which pixels a bits/dim is over, for a report; `bits_per_dim_original_pixels` if padded.

    A model of images zero-padded from `original_shape` to `image_shape` scores
    `log p(x, padding = 0)`. Its bits/dim over all `D` pixels is not comparable
    with papers that count the `D_0` original ones (28x28 MNIST). Since
    `p(x) = sum over paddings of p(x, padding) >= p(x, padding = 0)`,
    `-log p(x, padding = 0) / (D_0 log 2)` bounds the bits/dim of the original
    pixels from above (it also pays for the padding): that is
    `bits_per_dim_original_pixels`.

    Args:
      mean_log_likelihood: mean nats per image (the model's, of the padded image).
      image_shape: `(H, W, C)` the model sees.
      original_shape: `(H0, W0, C)` before padding (None or equal: no padding).

    Returns:
      A dict with `num_dims` (what `bits_per_dim` divides by) and `pixels` (in
      words); with padding also `original_num_dims` and `bits_per_dim_original_pixels`.
    """
    dims = num_dims(image_shape)
    shape = "x".join(str(int(d)) for d in image_shape)
    if original_shape is None or tuple(original_shape) == tuple(image_shape):
        return {"num_dims": dims, "pixels": f"all {dims} dims of the {shape} images"}
    original = num_dims(original_shape)
    return {
        "num_dims": dims,
        "original_num_dims": original,
        "bits_per_dim_original_pixels": float(-mean_log_likelihood / (original * math.log(2.0))),
        "pixels": (
            f"bits_per_dim over all {dims} dims of the {shape} padded images ({dims - original} "
            f"of them padding); bits_per_dim_original_pixels over the {original} original ones "
            "(an upper bound on their bits/dim: it also pays for the padding)"
        ),
    }
