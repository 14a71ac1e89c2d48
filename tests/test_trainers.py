"""The trainer binaries: a smoke run per model, distribution, multi-worker, kill -9 and resume."""

import csv
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import models
from tfflows.data import digits_arrays
from tfflows.layers import batch_norms, recalibrate_batch_norm
from tfflows.training import TrainConfig, build_model

REPO = pathlib.Path(__file__).resolve().parents[1]

# Tiny hyper-parameters per registered model: a new model must add its own.
TINY_FLAGS = {
    "glow": [
        "--glow_num_levels=1",
        "--glow_num_steps=1",
        "--glow_hidden_units=8",
        "--nodata_autotune",  # the option's plumbing (data_autotune)
    ],
    "vae": ["--vae_latent_dim=4", "--vae_filters=8,8", "--vae_hidden_units=16"],
    "fvae": [
        "--fvae_encoder_steps=1",
        "--fvae_hidden_units=8",
        "--fvae_flow_steps=1",
        "--fvae_flow_hidden_units=8",
    ],
    "glf": [
        "--glf_latent_dim=4",
        "--glf_filters=8,8",
        "--glf_hidden_units=16",
        "--glf_flow_hidden_units=8",
    ],
    "glf_regularized": [
        "--glf_regularized_latent_dim=4",
        "--glf_regularized_filters=8,8",
        "--glf_regularized_hidden_units=16",
        "--glf_regularized_flow_hidden_units=8",
        "--glf_regularized_autoencoder_dtype=mixed_bfloat16",  # bf16 through flags and export
    ],
    "vae_flow_prior": [
        "--vae_flow_prior_latent_dim=4",
        "--vae_flow_prior_filters=8,8",
        "--vae_flow_prior_hidden_units=16",
        "--vae_flow_prior_flow_hidden_units=8",
    ],
    "vae_flow_decoder": [
        "--vae_flow_decoder_latent_dim=4",
        "--vae_flow_decoder_filters=8,8",
        "--vae_flow_decoder_hidden_units=16",
        "--vae_flow_decoder_prior_blocks=1",
        "--vae_flow_decoder_prior_hidden_units=8",
        "--vae_flow_decoder_glow_steps=1",
        "--vae_flow_decoder_glow_hidden_units=8",
    ],
    "two_stage_vae": [
        "--two_stage_vae_latent_dim=4",
        "--two_stage_vae_filters=8,8",
        "--two_stage_vae_hidden_units=16",
        "--two_stage_vae_stage2_hidden_units=8",
    ],
    "vflow": [
        "--vflow_num_levels=1",
        "--vflow_num_steps=1",
        "--vflow_hidden_units=8",
        "--vflow_posterior_steps=1",
        "--vflow_posterior_hidden_units=8",
        "--vflow_context_channels=2",
        "--vflow_context_hidden_units=4",
    ],
}
TINY_KWARGS = {
    "glow": dict(num_levels=1, num_steps=1, hidden_units=8),
    "vae": dict(latent_dim=4, filters=(8, 8), hidden_units=16),
    "glf": dict(latent_dim=4, filters=(8, 8), hidden_units=16, flow_hidden_units=8),
}


def run_trainer(*args, env=None, wait=True):
    command = [
        sys.executable,
        "-m",
        "trainers.train",
        "--verbose=2",
        "--batch_size=16",
        *args,
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    if not wait:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def csv_epochs(model_dir):
    with open(pathlib.Path(model_dir) / "metrics.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_every_registered_model_has_a_smoke_configuration():
    assert set(models.names()) == set(TINY_FLAGS)


@pytest.mark.parametrize("name", sorted(TINY_FLAGS))
def test_trainer_smoke_run(name, tmp_path):
    run_trainer(
        f"--model={name}",
        "--epochs=1",
        "--steps_per_epoch=3",
        f"--model_dir={tmp_path}",
        "--num_samples=4",
        "--ema_momentum=0.9",
        *TINY_FLAGS[name],
    )
    assert csv_epochs(tmp_path) == [0]
    with open(tmp_path / "metrics.csv") as f:
        row = next(csv.DictReader(f))
    assert {"loss", "bits_per_dim", "val_bits_per_dim"} <= set(row)
    assert (tmp_path / "best.keras").exists() and (tmp_path / "samples.png").exists()
    assert (tmp_path / "backup" / "latest.weights.h5").exists()
    assert any((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    assert np.isfinite(evaluation["bits_per_dim"])
    assert evaluation["test_split"] == "test" and evaluation["num_test_images"] == 360
    assert evaluation["validation_split"] == "validation"
    assert evaluation["num_validation_images"] == 143  # carved from digits' training split
    assert evaluation["nonfinite_samples"] == 0 and evaluation["nonfinite_samples_of"] == 1000
    assert evaluation["likelihood"] == models.model_class(name).likelihood_kind
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    assert {"sample", "log_prob", "serving_default"} <= set(loaded.signatures)


# A term each two-phase model logs as 0 in phase 1 and not in phase 2.
PHASE_TWO_TERMS = {"vae_flow_decoder": "glow_log_det", "two_stage_vae": "stage2_reconstruction"}


@pytest.mark.parametrize("name", sorted(PHASE_TWO_TERMS))
def test_two_phase_model_switches_to_phase_two_inside_one_run(name, tmp_path):
    run_trainer(
        f"--model={name}",
        "--epochs=2",
        "--steps_per_epoch=3",
        f"--model_dir={tmp_path}",
        "--num_samples=4",
        *TINY_FLAGS[name],
    )
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    # Epoch 0 is phase 1 (no Glow layer, no stage 2); epoch 1 trains the Glow layer, whose
    # actnorm and 1x1 convolution log-scales leave the identity's zero log-det, or stage 2,
    # whose negative log-likelihood of the latents is positive.
    term = PHASE_TWO_TERMS[name]
    assert [float(row[term]) != 0.0 for row in rows] == [False, True]


def midpoint_dequantization(model):
    """Deterministic bin centres instead of uniform noise, so two runs see equal inputs."""
    model.dequantize.call = lambda images, seed=None: (
        (tf.cast(images, tf.float32) + 0.5) / 256.0 - 0.5
    )


def test_mirrored_xla_step_matches_one_device(mirrored_strategy):
    config = TrainConfig(model="glow", model_kwargs=TINY_KWARGS["glow"], jit_compile=True)
    batch = digits_arrays("train")[0][:16]
    keras.utils.set_random_seed(0)
    single = build_model(config, (8, 8, 1), tf.distribute.get_strategy())
    mirrored = build_model(config, (8, 8, 1), mirrored_strategy)
    single.initialize(batch)
    mirrored.set_weights(single.get_weights())
    losses = []
    for model in (single, mirrored):
        midpoint_dequantization(model)
        history = model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
        losses.append(history.history["loss"][0])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    for mine, reference in zip(mirrored.trainable_variables, single.trainable_variables):
        first, second = (v.numpy() for v in mine.value.values)
        np.testing.assert_array_equal(first, second)  # replicas identical
        np.testing.assert_allclose(first, reference.numpy(), rtol=1e-3, atol=1e-5)


def test_ema_momentum_ends_training_with_the_average_on_every_replica(mirrored_strategy):
    config = TrainConfig(model="vae", model_kwargs=TINY_KWARGS["vae"], ema_momentum=0.5)
    model = build_model(config, (8, 8, 1), mirrored_strategy)
    assert model.optimizer.use_ema and model.optimizer.ema_momentum == 0.5
    batches = tf.data.Dataset.from_tensor_slices(digits_arrays("train")[0][:48]).batch(16)
    trained = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            trained.append([v.numpy() for v in model.trainable_variables])

    model.fit(batches, epochs=1, verbose=0, callbacks=[Record()])
    assert len(trained) == 3
    # Keras' average: the first step copies the weights, then 0.5 a + 0.5 w.
    expected = [(0.5 * (0.5 * a + 0.5 * b) + 0.5 * c) for a, b, c in zip(*trained)]
    for variable, want, last in zip(model.trainable_variables, expected, trained[-1]):
        first, second = (v.numpy() for v in variable.value.values)
        np.testing.assert_array_equal(first, second)
        np.testing.assert_allclose(first, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(first, last)


def test_recalibration_under_mirrored_strategy_keeps_replicas_identical(mirrored_strategy):
    config = TrainConfig(model="glf", model_kwargs=TINY_KWARGS["glf"], ema_momentum=0.9)
    model = build_model(config, (8, 8, 1), mirrored_strategy)
    norms = batch_norms(model)
    before = [norm.moving_mean.numpy() for norm in norms]
    batches = tf.data.Dataset.from_tensor_slices(digits_arrays("train")[0][:32]).batch(16)
    assert recalibrate_batch_norm(model, batches) == 2
    changed = 0
    for norm, old in zip(norms, before):
        first, second = (v.numpy() for v in norm.moving_mean.value.values)
        np.testing.assert_array_equal(first, second)
        changed += not np.allclose(first, old)
    assert norms and changed == len(norms)


def read_h5_arrays(path):
    arrays = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            arrays[name] = item[()]

    with h5py.File(path) as f:
        f.visititems(visit)
    return arrays


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_multi_worker_training_ends_with_identical_workers(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = [
        run_trainer(
            "--strategy=multi_worker",
            "--jit_compile",  # XLA under MultiWorkerMirroredStrategy too
            "--epochs=1",
            "--steps_per_epoch=2",
            f"--model_dir={tmp_path}",
            "--validation_split=",
            *TINY_FLAGS["glow"],
            env={
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": i}}
                )
            },
            wait=False,
        )
        for i in range(2)
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0, output[-4000:]
    weights = [
        read_h5_arrays(tmp_path / backup / "latest.weights.h5")
        for backup in ("backup", "backup_worker1")
    ]
    assert weights[0].keys() == weights[1].keys() and len(weights[0]) > 10
    for key, value in weights[0].items():
        np.testing.assert_array_equal(value, weights[1][key], err_msg=key)
    assert csv_epochs(tmp_path) == [0]  # only the chief writes the run's files


def test_kill_9_after_first_checkpoint_then_resume(tmp_path):
    args = [
        "--epochs=4",
        "--steps_per_epoch=15",
        f"--model_dir={tmp_path}",
        "--num_samples=4",
        *TINY_FLAGS["glow"],
    ]
    first = run_trainer(*args, wait=False)
    metadata = tmp_path / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while not metadata.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    assert first.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    done_before = json.loads(metadata.read_text())["epoch"]
    assert 1 <= done_before < 4
    assert csv_epochs(tmp_path) == list(range(done_before))

    resumed = run_trainer(*args)
    assert f"resuming from epoch {done_before + 1} of 4" in resumed.stdout
    assert f"Epoch {done_before + 1}/4" in resumed.stdout + resumed.stderr
    assert csv_epochs(tmp_path) == [0, 1, 2, 3]  # continued, no epoch counted twice
    assert json.loads(metadata.read_text())["epoch"] == 4
    with h5py.File(tmp_path / "backup" / "latest.weights.h5") as f:
        assert int(f["optimizer/vars/0"][()]) == 4 * 15  # Adam's step count carried over
    assert (tmp_path / "saved_model" / "saved_model.pb").exists()


def test_padded_images_report_which_pixels_bits_per_dim_is_over(tmp_path):
    run_trainer(
        "--model=glow",
        "--epochs=1",
        "--steps_per_epoch=2",
        "--pad_to=16",
        f"--model_dir={tmp_path}",
        "--num_samples=4",
        *TINY_FLAGS["glow"],
    )
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    assert (evaluation["num_dims"], evaluation["original_num_dims"]) == (256, 64)
    expected = -evaluation["log_likelihood"] / (64 * np.log(2.0))
    np.testing.assert_allclose(evaluation["bits_per_dim_original_pixels"], expected, rtol=1e-6)
    assert "192 of them padding" in evaluation["pixels"]


def test_steps_per_epoch_beyond_one_pass_trains_every_epoch(tmp_path):
    """3 epochs of 30 steps over digits' 80 batches of 16: the data repeats, no epoch is cut."""
    result = run_trainer(
        "--model=glow",
        "--epochs=3",
        "--steps_per_epoch=30",
        f"--model_dir={tmp_path}",
        "--num_samples=4",
        *TINY_FLAGS["glow"],
    )
    assert csv_epochs(tmp_path) == [0, 1, 2]
    assert "ran out of data" not in result.stdout + result.stderr


def test_flags_follow_the_declarations_they_set():
    """A flag per TrainConfig field and per constructor argument, through **kwargs to bases."""
    import dataclasses

    from absl import flags

    from tfflows.training import TrainConfig
    from trainers import declared_flags

    flag_values = flags.FlagValues()
    names = declared_flags.define_config_flags(
        TrainConfig, flag_values, skip=("model_kwargs",), defaults={"export_dir": None}
    )
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"model_kwargs"}
    assert set(names) == fields
    assert "global batch size" in flag_values["batch_size"].help
    assert flag_values["export_dir"].default is None and flag_values["seed"].default == 0
    flag_values(["prog", "--lr_halve_after=3,5", "--clipnorm=2.5", "--nojit_compile"])
    values = declared_flags.config_values(TrainConfig, names, flag_values)
    assert values["lr_halve_after"] == (3, 5) and values["clipnorm"] == 2.5
    config = TrainConfig(**values)
    assert config.lr_halve_after == (3, 5) and config.jit_compile is False
    # GLF declares only its own arguments; its base's come through **kwargs.
    glf = {p.name for p in declared_flags.model_parameters("glf")}
    assert {"beta", "stop_gradient", "flow_blocks", "latent_dim", "autoencoder_dtype"} <= glf
    assert "encoder_outputs_per_latent" not in glf and "image_shape" not in glf
    declared_flags.define_model_flags(flag_values)
    assert "coupling blocks" in flag_values["glf_flow_blocks"].help
    flag_values(["prog", "--glf_flow_blocks=2", "--vae_flow_prior_learn_beta"])
    assert declared_flags.model_kwargs("glf", flag_values) == {"flow_blocks": 2}
    assert declared_flags.model_kwargs("vae_flow_prior", flag_values) == {"learn_beta": True}
