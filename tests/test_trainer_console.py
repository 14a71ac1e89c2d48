"""What a run says: the sample binary's sweep grid and place, and the FID bar's count.

The trainer's end summary and quiet start-up are checked by the Ctrl-C test in
`test_trainer_faults.py` (its resumed run prints nothing to stderr).
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import tensorflow as tf
from PIL import Image

from tfflows import export, models
from tfflows.data import digits_arrays
from tfflows.metrics import fid

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_fid_progress_counts_images_not_batches():
    images = digits_arrays("test")[0]
    assert fid._count(images) == 360
    assert fid._count(tf.data.Dataset.from_tensor_slices(images)) == 360
    # Batched: the cardinality (4 batches) is no image count, so the bar has no target.
    assert fid._count(tf.data.Dataset.from_tensor_slices(images).batch(100)) is None


def test_sample_sweep_is_a_row_per_temperature_next_to_the_saved_model(tmp_path):
    model = models.get("glow", (8, 8, 1), num_levels=1, num_steps=1, hidden_units=8)
    model.initialize(digits_arrays("train")[0][:16])
    saved_model = tmp_path / "run" / "saved_model"
    export.export_saved_model(model, saved_model)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainers.sample",
            f"--saved_model={saved_model}",
            "--temperatures=0,0.5,1",
            "--scale=1",
        ],
        cwd=tmp_path,
        env=dict(env, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", result.stderr  # no TensorFlow start-up lines
    path = tmp_path / "run" / "temperature_sweep.png"
    assert str(path) in result.stdout and not list(tmp_path.glob("*.png"))
    grid = np.asarray(Image.open(path))
    # 3 rows (temperatures) of 8 images of 8x8 with 1-pixel padding.
    assert grid.shape[:2] == (3 * 9 + 1, 8 * 9 + 1)
