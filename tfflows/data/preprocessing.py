"""Pixel-level preprocessing that the papers' protocols need: n-bit reduction, padding,
scaling to model space and the CelebA centre crop.

Conventions shared with the flows (see `tfflows.data.dequantization` and
`tfflows.metrics.likelihood`): an image is uint8 `x` in `0..2^n - 1` after n-bit
reduction, and model space is `y = x / 2^n - 0.5` ("centered", in [-0.5, 0.5)) or
`y = x / 2^n` ("unit", in [0, 1)); both have the pixel scale `1 / 2^n` that the
bits/dim conversion needs.
"""

import tensorflow as tf

__all__ = ["reduce_bits", "pad_images", "scale_images", "center_crop_resize", "SCALES"]

SCALES = ("centered", "unit")


def reduce_bits(images, num_bits):
    """Keeps the `num_bits` most significant bits: `x // 2^(8 - n)`, in `0..2^n - 1`.

    As Glow (Kingma & Dhariwal, 2018) does for 5-bit CelebA-HQ. Accepts uint8 (or any
    integer) tensors of 8-bit values and returns uint8. `num_bits=8` is the identity.
    """
    if not 1 <= num_bits <= 8:
        raise ValueError(f"num_bits must be in 1..8, got {num_bits}.")
    images = tf.convert_to_tensor(images)
    if num_bits == 8:
        return tf.cast(images, tf.uint8)
    # Integer division on int32: exact, and uint8 floordiv is not registered on every device.
    return tf.cast(tf.cast(images, tf.int32) // (2 ** (8 - num_bits)), tf.uint8)


def pad_images(images, size):
    """Zero-pads `[..., H, W, C]` images symmetrically to `size x size` (e.g. MNIST 28 -> 32).

    Multi-scale flows squeeze by 2 several times, so they need sides divisible by a
    power of two; zeros are the background of MNIST-like data.
    """
    images = tf.convert_to_tensor(images)
    height, width = images.shape[-3], images.shape[-2]
    if size < height or size < width:
        raise ValueError(f"Cannot pad {height}x{width} images to {size}x{size}.")
    top, left = (size - height) // 2, (size - width) // 2
    paddings = [[0, 0]] * (images.shape.rank - 3) + [
        [top, size - height - top],
        [left, size - width - left],
        [0, 0],
    ]
    return tf.pad(images, paddings)


def scale_images(images, num_bits=8, scale="centered", noise=None):
    """Maps integer images in `0..2^n - 1` to float32 model space.

    `centered`: `y = (x + noise) / 2^n - 0.5`; `unit`: `y = (x + noise) / 2^n`.
    `noise` is the dequantization noise in [0, 1) (None for none); the pixel scale
    `1 / 2^n` is what `tfflows.metrics.discrete_log_likelihood` must be given.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}.")
    y = tf.cast(images, tf.float32)
    if noise is not None:
        y = y + noise
    y = y / float(2**num_bits)
    return y - 0.5 if scale == "centered" else y


def center_crop_resize(images, crop=160, size=64):
    """The GLF/WAE CelebA protocol: central `crop x crop` square, resized to `size x size`.

    CelebA's aligned images are 218x178; the 160x160 crop starts at row 29, column 9.
    Resizing is area-weighted (antialiased bilinear), then rounded back to uint8 so the
    result is again a discrete 8-bit image.
    """
    images = tf.convert_to_tensor(images)
    height, width = images.shape[-3], images.shape[-2]
    top, left = (height - crop) // 2, (width - crop) // 2
    cropped = images[..., top : top + crop, left : left + crop, :]
    resized = tf.image.resize(
        tf.cast(cropped, tf.float32), (size, size), method="bilinear", antialias=True
    )
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
