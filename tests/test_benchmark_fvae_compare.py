"""Smoke test of benchmarks/fvae_compare.py: a VFlow row with its ELBO and IW bound."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from benchmarks import fvae_compare
from tfflows import models


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


def test_a_variant_on_the_validation_split_writes_a_named_json_and_png(
    shared_data_dir, inception_weights, tmp_path
):
    flags = [
        f"--data_dir={shared_data_dir / 'mnist'}",
        "--models=fvae",
        '--config={"fvae": {"latent_channels": 2}}',
        "--tag=latent2",
        "--eval_split=validation",
        "--minutes=0.001",
        "--target_params=30000",
        "--num_eval=20",
        "--num_importance_samples=0",
        "--num_fid_samples=8",
        "--fid_method=eigh",  # the references' sqrtm: minutes at 2048-d
        "--reconstruction_fid=1",
        "--extra_temperatures=0.5",
    ]
    fvae_compare.main(flags + [f"--results_dir={tmp_path}", f"--save_dir={tmp_path / 'm'}"])
    name = "fvae_mnist_fvae-latent2_0.001min_validation"
    result = json.loads((tmp_path / f"{name}.json").read_text())
    row = result["result"]
    assert result["eval_split"] == row["eval_split"] == "validation"
    assert row["config"]["latent_channels"] == 2 and row["variant"] == "latent2"
    assert row["sample_grid"] == f"{name}.png" and row["sample_grid_temperatures"] == [1.0, 0.5]
    assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert row["num_reconstructions"] == 8 and math.isfinite(row["reconstruction_fid"])
    assert 0.0 < row["reconstruction_mse"] < 1.0 and math.isfinite(row["fid"])
    assert row["fid_method"] == "eigh"
    command = result["environment"]["command"]
    assert "--data_dir=/path/to/mnist" in command and str(tmp_path) not in command
    # The saved weights evaluate to the same numbers, with the saved training figures.
    again = tmp_path / "again"
    fvae_compare.main(flags + [f"--results_dir={again}", f"--weights_dir={tmp_path / 'm'}"])
    reloaded = json.loads((again / f"{name}.json").read_text())["result"]
    assert reloaded["evaluated_from_saved_weights"] and not row["evaluated_from_saved_weights"]
    assert reloaded["train_cpu"] == row["train_cpu"] and row["train_cpu"]["cores_used"] >= 1
    for key in ("train_steps", "train_seconds", "bits_per_dim", "reconstruction_mse"):
        assert reloaded[key] == pytest.approx(row[key], rel=1e-6), key


def test_config_that_is_not_a_dict_of_dicts_is_rejected(capsys):
    for bad in ("{", '{"fvae": 2}'):
        try:
            fvae_compare.parse_args(["--data_dir=x", f"--config={bad}"])
        except SystemExit as error:
            assert error.code == 2
        else:
            raise AssertionError(f"--config={bad} was accepted")
        assert "--config" in capsys.readouterr().err


def test_sample_grid_shows_black_samples_black(shared_data_dir, tmp_path, monkeypatch):
    # `sample` gives [0, 1] floats: all-zero samples must be black cells (0), not grey (128).
    monkeypatch.setattr(
        models.VAE, "sample", lambda self, n, t=1.0, seed=None: tf.zeros([n, 28, 28, 1])
    )
    fvae_compare.main(
        [
            f"--data_dir={shared_data_dir / 'mnist'}",
            "--models=vae",
            "--minutes=0.001",
            "--target_params=30000",
            "--num_eval=20",
            "--num_importance_samples=0",
            "--num_fid_samples=0",
            f"--results_dir={tmp_path}",
        ]
    )
    grid = np.asarray(Image.open(tmp_path / "fvae_mnist_vae_0.001min.png"))
    cell = grid[2:58, 2:58]  # the first sample, 28x28 at scale 2, inside the white border
    assert cell.max() == 0, np.unique(cell)


def test_flow_decoder_vae_switches_phase_on_the_clock_and_draws_figure_4(
    shared_data_dir, inception_weights, tmp_path
):
    fvae_compare.main(
        [
            f"--data_dir={shared_data_dir / 'mnist'}",
            "--paper=vae_flow_decoder",
            "--models=vae_flow_decoder",
            '--config={"vae_flow_decoder": {"vae_fraction": 0.0}}',  # phase 2 from the start
            "--minutes=0.001",
            "--target_params=30000",
            "--num_eval=20",
            "--num_importance_samples=0",
            "--num_fid_samples=8",
            "--fid_method=eigh",  # the references' sqrtm: minutes at 2048-d
            "--temperature=0.5",
            f"--results_dir={tmp_path}",
        ]
    )
    name = "vae_flow_decoder_mnist_vae_flow_decoder_0.001min"
    row = json.loads((tmp_path / f"{name}.json").read_text())["result"]
    assert row["phase2_start_step"] == 0 and row["config"]["phase"] == 2
    assert math.isfinite(row["fid"]) and math.isfinite(row["fid_without_glow_layer"])
    assert row["temperature_of_pair"] == 0.5 and row["pair_grid"] == f"{name}_pair.png"
    with Image.open(tmp_path / row["pair_grid"]) as grid:
        assert grid.size[1] < grid.size[0]  # two rows of eight


def test_joint_flow_decoder_vae_at_a_temperature_chosen_on_validation(
    shared_data_dir, inception_weights, tmp_path
):
    fvae_compare.main(
        [
            f"--data_dir={shared_data_dir / 'mnist'}",
            "--paper=vae_flow_decoder",
            "--models=vae_flow_decoder",
            '--config={"vae_flow_decoder": {"schedule": "joint"}}',
            "--tag=joint",
            "--minutes=0.001",
            "--target_params=30000",
            "--num_eval=20",
            "--num_importance_samples=0",
            "--num_fid_samples=8",
            "--fid_method=eigh",  # the references' sqrtm: minutes at 2048-d
            "--select_temperatures=0,1",
            "--selection_fid_samples=8",
            f"--output={tmp_path / 'cmp.json'}",
        ]
    )
    row = json.loads((tmp_path / "cmp.json").read_text())["results"][0]
    assert row["config"]["schedule"] == "joint" and row["phase2_start_step"] is None
    selection = row["temperature_selection"]
    fids = selection["fid_at_temperature"]
    assert selection["split"] == "validation" and selection["num_fid_samples"] == 8
    assert sorted(float(t) for t in fids) == [0.0, 1.0]
    assert row["temperature"] == selection["temperature"] == row["temperature_of_pair"]
    assert fids[str(row["temperature"])] == min(fids.values())
    assert math.isfinite(row["fid"])


@pytest.mark.parametrize("bad", ["0.5,-1", "x", "nan"])
def test_bad_selection_temperatures_are_rejected_by_flag(capsys, bad):
    with pytest.raises(SystemExit) as error:
        fvae_compare.parse_args(["--data_dir=x", f"--select_temperatures={bad}"])
    assert error.value.code == 2 and "--select_temperatures" in capsys.readouterr().err
    assert fvae_compare.parse_args(["--data_dir=x"]).select_temperatures == ()


def test_reconstruction_fid_skips_a_flow(shared_data_dir, inception_weights, tmp_path):
    """A flow reconstructs exactly: it gets no reconstruction FID, and the run completes."""
    fvae_compare.main(
        [
            f"--data_dir={shared_data_dir / 'mnist'}",
            "--models=glow",
            "--minutes=0.001",
            "--target_params=30000",
            "--num_eval=8",
            "--num_fid_samples=4",
            "--fid_method=eigh",  # the references' sqrtm: minutes at 2048-d
            "--reconstruction_fid=1",
            f"--output={tmp_path / 'glow.json'}",
        ]
    )
    row = json.loads((tmp_path / "glow.json").read_text())["results"][0]
    assert math.isfinite(row["fid"]) and "reconstruction_fid" not in row


def test_a_diverging_model_is_recorded_as_diverged_and_not_evaluated(
    shared_data_dir, tmp_path, monkeypatch
):
    class DivergesAtStep2(fvae_compare.NonFiniteGuard):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise fvae_compare.NonFiniteError("the loss became nan at epoch 1 step 2")

    monkeypatch.setattr(fvae_compare, "NonFiniteGuard", DivergesAtStep2)
    fvae_compare.main(
        [
            f"--data_dir={shared_data_dir / 'mnist'}",
            "--models=glow",
            "--minutes=30",  # far longer than two steps take, even on a loaded machine
            "--target_params=30000",
            "--num_eval=8",
            "--num_fid_samples=4",
            "--fid_method=eigh",  # the references' sqrtm: minutes at 2048-d
            f"--results_dir={tmp_path}",
        ]
    )
    row = json.loads((tmp_path / "fvae_mnist_glow_30min.json").read_text())["result"]
    assert row["diverged"] == "the loss became nan at epoch 1 step 2"
    # Stopped at once (the guard runs first: the budget counts the steps before it).
    assert row["train_steps"] == 1 and row["train_seconds"] < 30 * 60
    assert row["fid"] is None and row["bits_per_dim"] is None and row["sample_grid"] is None
    assert not (tmp_path / "fvae_mnist_glow_30min.png").exists()


@pytest.mark.parametrize(
    "phase, temperature, flag, scored",
    [(1, 0.0, 1, False), (1, 0.5, 1, True), (2, 0.0, 1, True), (2, 0.5, 0, None)],
)
def test_figure4_scores_the_vaes_images_only_when_they_differ_from_the_samples(
    monkeypatch, phase, temperature, flag, scored
):
    # In phase 1 at T = 0 the samples are the VAE's decoder means: their FID is reused;
    # --figure4_fid=0 skips it.
    calls = []

    def fake_fid(model, *args, **kwargs):
        calls.append(kwargs["temperature"])
        return {"fid": 42.0}

    monkeypatch.setattr(fvae_compare, "sample_fid", fake_fid)
    model = type("Stub", (), {"phase": phase})()
    args = fvae_compare.parse_args(
        ["--data_dir=unused", "--num_fid_samples=8", f"--temperature={temperature}"]
        + [f"--figure4_fid={flag}"]
    )
    out = fvae_compare.figure4_pair(model, "vae_flow_decoder", args, {}, fid=7.0)
    expected = {True: 42.0, False: 7.0, None: None}[scored]
    assert out.get("fid_without_glow_layer") == expected
    assert calls == ([temperature] if scored else [])


def test_a_child_process_gets_the_parents_settings():
    # Each model runs in its own process (--isolate): its flags must parse back to the same args.
    argv = ["--data_dir=x", "--extra_temperatures=0,0.8", "--select_temperatures=0.5,1"]
    argv += ['--config={"fvae": {"latent_channels": 2}}', "--minutes=3", "--tag=t"]
    args = fvae_compare.parse_args(argv)
    assert args.extra_temperatures == (0.0, 0.8) and args.select_temperatures == (0.5, 1.0)
    again = fvae_compare.parse_args(fvae_compare.child_flags(args))
    assert {**vars(again), "argv": None} == {**vars(args), "argv": None}


@pytest.mark.parametrize("flag", ["extra_temperatures", "select_temperatures"])
def test_bad_temperature_flags_name_the_flag_and_the_culprit(capsys, flag):
    with pytest.raises(SystemExit):
        fvae_compare.parse_args(["--data_dir=x", f"--{flag}=0.5,x"])
    assert f"--{flag} must be finite numbers >= 0, got 'x'" in capsys.readouterr().err
