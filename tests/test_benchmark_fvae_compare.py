"""Smoke test of benchmarks/fvae_compare.py: a VFlow row with its ELBO and IW bound."""

import json
import math

from benchmarks import fvae_compare


def test_vflow_row_reports_the_elbo_and_the_iw_bound(shared_data_dir, tmp_path):
    fvae_compare.main(
        [
            f"--data_dir={shared_data_dir / 'mnist'}",
            "--models=vflow",
            "--minutes=0.001",
            "--target_params=30000",
            "--num_eval=20",
            "--num_importance_samples=3",
            "--num_fid_samples=0",
            f"--output={tmp_path / 'cmp.json'}",
        ]
    )
    row = json.loads((tmp_path / "cmp.json").read_text())["results"][0]
    assert row["model"] == "vflow" and row["likelihood"] == "elbo"
    assert row["config"]["augmented_channels"] == 1 and row["config"]["num_steps"] == 8
    assert row["train_steps"] >= 1 and row["num_eval"] == 20
    assert math.isfinite(row["bits_per_dim"]) and math.isfinite(row["bits_per_dim_iw"])
    # An untrained model: several bits/dim, and the bounds of the same images close.
    assert 1.0 < row["bits_per_dim_iw"] < 12.0
    assert abs(row["bits_per_dim_iw"] - row["bits_per_dim"]) < 0.5
