"""Smoke test of benchmarks/vflow_toy.py: the three models' rows, the JSON and the PNG."""

import json
import math

import numpy as np
import pytest

from benchmarks import vflow_toy


def test_checkerboard_is_uniform_on_its_support_of_area_32():
    points = vflow_toy.split_points("test", 20000, seed=0)
    assert np.all(np.isfinite(vflow_toy.checkerboard_log_density(points)))
    np.testing.assert_allclose(vflow_toy.checkerboard_log_density(points), -math.log(32.0))
    # Half of each 4 x 4 block of squares, each square equally often.
    cells = np.floor(points / 2.0).astype(int)
    assert np.all((cells.sum(axis=1) % 2) == 0)
    counts = np.unique(cells, axis=0, return_counts=True)[1]
    assert len(counts) == 8 and counts.min() > 2300
    # Off the support the density is zero: (1, 1) is in square (0, 0), (3, 1) in (1, 0).
    np.testing.assert_array_equal(
        vflow_toy.checkerboard_log_density(np.array([[1.0, 1.0], [3.0, 1.0], [5.0, 1.0]])),
        [-math.log(32.0), -np.inf, -np.inf],
    )
    # Validation and test do not depend on the training seed; training does.
    np.testing.assert_array_equal(points, vflow_toy.split_points("test", 20000, seed=3))
    assert not np.array_equal(
        vflow_toy.split_points("train", 10, 0), vflow_toy.split_points("train", 10, 1)
    )


def test_run_writes_the_three_models_rows_json_and_png(tmp_path):
    vflow_toy.main(
        [
            "--models=flow-1,vflow-1,flow-2",
            "--steps=4",
            "--log_every=2",
            "--seeds=0",
            "--hidden_units=8",
            "--batch_size=32",
            "--num_train=256",
            "--num_eval=50",
            "--num_importance_samples=7",
            "--grid_size=12",
            "--grid_importance_samples=3",
            "--jit_compile=0",
            "--eval_split=validation",
            "--tag=smoke",
            f"--results_dir={tmp_path}",
        ]
    )
    name = "vflow_toy2d_4steps-smoke_validation"
    result = json.loads((tmp_path / f"{name}.json").read_text())
    assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    assert result["density_plot"] == f"{name}.png"
    assert result["dataset"] == "checkerboard" and result["eval_split"] == "validation"
    assert result["data_log_likelihood"] == pytest.approx(-math.log(32.0))
    assert result["steps"] == 4 and result["seeds"] == [0] and result["density_plot_seed"] == 0
    assert str(tmp_path) not in result["environment"]["command"]
    rows = {row["model"]: row for row in result["results"]}
    assert list(rows) == ["flow-1", "vflow-1", "flow-2"]
    for row in rows.values():
        assert math.isfinite(row["log_likelihood"]) and row["log_likelihood_se"] > 0
        assert row["parameters"] > 0 and row["train_seconds"] > 0 and row["nonfinite"] == 0
        assert len(row["train_loss"]) == 2 and all(map(math.isfinite, row["train_loss"]))
    assert rows["flow-1"]["likelihood"] == "exact" and "elbo" not in rows["flow-1"]
    vflow = rows["vflow-1"]
    assert vflow["likelihood"] == "iw (K=7)" and vflow["augmented_dims"] == 10
    assert vflow["config"]["num_steps"] == 1 and vflow["grid_importance_samples"] == 3
    # The IW bound of the same points is above the ELBO (7 samples, nearly untrained).
    assert vflow["iw_minus_elbo"] > 0 and vflow["log_likelihood"] > vflow["elbo"]
    assert rows["flow-2"]["num_steps"] == 2
    summary = {entry["model"]: entry for entry in result["summary"]}
    assert summary["vflow-1"]["log_likelihood"] == [vflow["log_likelihood"]]
    assert summary["vflow-1"]["elbo_mean"] == vflow["elbo"] and "elbo" not in summary["flow-1"]


@pytest.mark.parametrize(
    "flag, named",
    [
        ("--models=flow-3,glow-3", "'glow-3'"),
        ("--seeds=0,a", "'a'"),
        ("--steps=1500", "multiple of --log_every"),
    ],
)
def test_a_bad_model_or_seed_is_rejected(flag, named, capsys):
    with pytest.raises(SystemExit):
        vflow_toy.main([flag])
    assert named in capsys.readouterr().err
