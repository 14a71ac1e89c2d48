"""Smoke test of benchmarks/model_throughput.py: a two-phase model's rates per phase."""

import json

import pytest

from benchmarks import model_throughput
from tfflows import models

# The small flow-decoder VAE on 8x8 images, two timed steps: what every test times.
TINY = [
    "--models=vae_flow_decoder",
    "--presets=small",
    "--image_shape=8,8,1",
    "--batch_size=8",
    "--steps=2",
    "--warmup=0",
    "--serving_batch=4",
    "--serving_calls=2",
]


def test_two_phase_model_reports_each_phase_and_the_schedules_rate(tmp_path):
    output = tmp_path / "throughput.json"
    rows = model_throughput.main(
        TINY + ['--config={"vae_flow_decoder": {"glow_steps": 1}}', f"--output={output}"]
    )
    (row,) = rows
    r1, r2 = row["train_images_per_s_phase1"], row["train_images_per_s_phase2"]
    f = row["phase1_fraction"]
    assert r1 > 0 and r2 > 0 and f == 0.5
    assert row["train_images_per_s"] == pytest.approx(1.0 / (f / r1 + (1 - f) / r2))
    # --config reached the model: the small preset with a one-step Glow layer.
    one_step = models.get("vae_flow_decoder", (8, 8, 1), preset="small", glow_steps=1)
    assert row["params"] == one_step.count_params()
    saved = json.loads(output.read_text())
    assert "--config=" in saved["environment"]["command"] and "output" not in saved["args"]
    assert saved["rows"][0]["model"] == "vae_flow_decoder" and "cpu" in saved["environment"]


def test_a_joint_flow_decoder_vae_is_timed_in_its_one_phase(tmp_path):
    (row,) = model_throughput.main(
        TINY + ['--config={"vae_flow_decoder": {"glow_steps": 1, "schedule": "joint"}}']
    )
    assert row["train_images_per_s"] > 0 and "train_images_per_s_phase1" not in row
