"""Pictures of generative models: sample grids, interpolation strips and temperature
sweeps as PNG files (Pillow), and TensorBoard image summaries (`tf.summary.image`).

Images may be uint8 `0..255`, or float in a `value_range` (tfflows' model space is
`(-0.5, 0.5)`); n-bit images pass `num_bits` so `0..2^n-1` spreads over `0..255`.
Models stay out of this module: callers pass `decode(z)` / `sample(n, temperature)`
functions, so any model (or SavedModel signature) can be drawn.
"""

import math
import os

import numpy as np
import tensorflow as tf
from PIL import Image

__all__ = [
    "to_uint8",
    "image_grid",
    "save_png",
    "save_sample_grid",
    "interpolate",
    "save_interpolation_strip",
    "save_temperature_sweep",
    "image_summary",
]


def to_uint8(images, value_range=None, num_bits=8):
    """`[..., H, W, C]` images as uint8 0..255 (floats: `value_range` maps to 0..255).

    Float NaN becomes 0 and +-inf the nearer end: a sample that a flow's
    inverse blew up stays a visibly broken image (a NaN's cast is undefined).
    """
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        levels = 2**num_bits - 1
        return np.clip(np.round(images.astype(np.float64) * (255.0 / levels)), 0, 255).astype(
            np.uint8
        )
    low, high = value_range if value_range is not None else (-0.5, 0.5)
    scaled = (images.astype(np.float64) - low) / (high - low) * 255.0
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def image_grid(images, num_rows=None, padding=1, pad_value=255, **kwargs):
    """Tiles `[N, H, W, C]` images row-major into one `[rows*(H+p)+p, cols*(W+p)+p, C]` image.

    `num_rows` defaults to a near-square grid; missing cells stay `pad_value`.
    """
    images = to_uint8(images, **kwargs)
    n, h, w, c = images.shape
    rows = num_rows or max(1, int(math.floor(math.sqrt(n))))
    cols = int(math.ceil(n / rows))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), pad_value,
                   np.uint8)  # fmt: skip
    for i in range(n):
        top = padding + (i // cols) * (h + padding)
        left = padding + (i % cols) * (w + padding)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def save_png(image, path, scale=1):
    """Writes a uint8 `[H, W, C]` image (C in {1, 3}) as PNG, enlarged `scale` times."""
    image = np.asarray(image)
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    if scale > 1:  # nearest: keeps pixels crisp for 8x8 or 28x28 images
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    picture.save(path, format="PNG")
    return path


def save_sample_grid(images, path, num_rows=None, scale=1, **kwargs):
    """Saves `[N, H, W, C]` samples as one PNG grid; returns the grid."""
    grid = image_grid(images, num_rows=num_rows, **kwargs)
    save_png(grid, path, scale=scale)
    return grid


def interpolate(z_start, z_end, num_steps, spherical=False):
    """`[num_steps, ...]` points from `z_start` to `z_end` (both included).

    Linear, or spherical (slerp; White, 2016), which keeps the norm of Gaussian latents
    near the typical set instead of shrinking it half-way.
    """
    z0, z1 = np.asarray(z_start, np.float64), np.asarray(z_end, np.float64)
    t = np.linspace(0.0, 1.0, num_steps).reshape((-1,) + (1,) * z0.ndim)
    if not spherical:
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    cos = np.sum(z0 * z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    return ((np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)).astype(
        np.float32
    )


def save_interpolation_strip(decode, z_starts, z_ends, path, num_steps=8, spherical=True, **kw):
    """One row per latent pair: `decode` of the interpolation from `z_starts[i]` to `z_ends[i]`.

    `decode(z [num_steps, ...]) -> images [num_steps, H, W, C]`. Returns the grid.
    """
    rows = [np.asarray(decode(interpolate(a, b, num_steps, spherical))) for a, b in
            zip(z_starts, z_ends)]  # fmt: skip
    return save_sample_grid(np.concatenate(rows), path, num_rows=len(rows), **kw)


def save_temperature_sweep(sample, temperatures, path, num_samples=8, **kw):
    """One row per temperature T: `sample(num_samples, T)` (Glow's reduced-temperature
    sampling, `z ~ N(0, T^2 I)`). Returns the grid."""
    rows = [np.asarray(sample(num_samples, float(t))) for t in temperatures]
    return save_sample_grid(np.concatenate(rows), path, num_rows=len(rows), **kw)


def image_summary(name, images, step, max_outputs=16, as_grid=True, **kwargs):
    """Writes images to the default `tf.summary` writer (TensorBoard's Images tab).

    With `as_grid`, one grid image instead of `max_outputs` separate ones (easier to
    compare across steps). Returns what `tf.summary.image` returns.
    """
    images = to_uint8(np.asarray(images)[:max_outputs], **kwargs)
    data = image_grid(images)[None] if as_grid else images
    return tf.summary.image(name, data, step=step, max_outputs=max_outputs)
