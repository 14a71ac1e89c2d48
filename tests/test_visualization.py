"""Tests of tfflows.visualization: PNG grids, interpolation strips, temperature sweeps and
TensorBoard image summaries."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfflows import visualization as vis


def test_to_uint8_maps_ranges_and_bit_depths():
    np.testing.assert_array_equal(vis.to_uint8(np.array([-0.5, 0.0, 0.5])), [0, 128, 255])
    np.testing.assert_array_equal(vis.to_uint8(np.array([0.0, 1.0]), value_range=(0, 1)), [0, 255])
    np.testing.assert_array_equal(vis.to_uint8(np.array([0, 31], np.uint8), num_bits=5), [0, 255])
    np.testing.assert_array_equal(vis.to_uint8(np.array([0, 7, 255], np.uint8)), [0, 7, 255])


def test_to_uint8_keeps_nonfinite_samples_as_black_or_white():
    with np.errstate(all="raise"):  # no "invalid value encountered in cast"
        got = vis.to_uint8(np.array([np.nan, np.inf, -np.inf, 0.5]), value_range=(0, 1))
    np.testing.assert_array_equal(got, [0, 255, 0, 128])


def test_sample_grid_png_round_trip(tmp_path):
    images = np.arange(5 * 4 * 3 * 1, dtype=np.uint8).reshape(5, 4, 3, 1) * 4
    grid = vis.save_sample_grid(images, tmp_path / "grid.png", num_rows=2, padding=1)
    assert grid.shape == (2 * 5 + 1, 3 * 4 + 1, 1)
    # Image 4 sits in row 1, column 1; the sixth cell is empty padding.
    np.testing.assert_array_equal(grid[6:10, 5:8], images[4])
    assert np.all(grid[6:10, 9:12] == 255)
    loaded = np.asarray(Image.open(tmp_path / "grid.png"))
    np.testing.assert_array_equal(loaded, grid[..., 0])
    vis.save_sample_grid(np.zeros((4, 2, 2, 3), np.float32), tmp_path / "big.png", scale=3)
    assert Image.open(tmp_path / "big.png").size == (3 * 7, 3 * 7)  # 2x2 cells of 2 + padding


def test_interpolation_is_linear_or_spherical_with_exact_endpoints():
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    lin = vis.interpolate(z0, z1, 5)
    np.testing.assert_allclose(lin[[0, -1]], [z0, z1])
    np.testing.assert_allclose(lin[2], [0.5, 0.5])
    slerp = vis.interpolate(z0, z1, 5, spherical=True)
    np.testing.assert_allclose(slerp[[0, -1]], [z0, z1], atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(slerp, axis=1), 1.0, rtol=1e-6)


def test_interpolation_strip_and_temperature_sweep(tmp_path):
    def decode(z):  # a "model": the latent's first coordinate as the grey level
        return np.tile(np.asarray(z)[:, :1, None, None], (1, 3, 3, 1)) - 0.5

    grid = vis.save_interpolation_strip(decode, [np.zeros(2), np.ones(2) * 0.2],
                                        [np.ones(2), np.ones(2) * 0.8], tmp_path / "strip.png",
                                        num_steps=4, spherical=False, padding=0)  # fmt: skip
    assert grid.shape == (2 * 3, 4 * 3, 1)
    np.testing.assert_array_equal(grid[0, ::3, 0], [0, 85, 170, 255])  # first row: 0 -> 1
    sampled = []

    def sample(n, temperature):
        sampled.append(temperature)
        return np.full((n, 2, 2, 1), temperature - 0.5, np.float32)

    grid = vis.save_temperature_sweep(sample, [0.0, 0.5, 1.0], tmp_path / "t.png", num_samples=3)
    assert sampled == [0.0, 0.5, 1.0] and grid.shape == (3 * 3 + 1, 3 * 3 + 1, 1)
    assert (tmp_path / "t.png").exists()


@pytest.mark.parametrize("as_grid", [True, False])
def test_tensorboard_image_summary(tmp_path, as_grid):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert vis.image_summary("samples", np.zeros((4, 8, 8, 1), np.float32), step=3,
                                 as_grid=as_grid)  # fmt: skip
    writer.flush()
    events = list(tmp_path.glob("events.out.tfevents.*"))
    assert events
    tags = [v.tag for e in tf.compat.v1.train.summary_iterator(str(events[0]))
            for v in e.summary.value]  # fmt: skip
    assert tags == ["samples"]
