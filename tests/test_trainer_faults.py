"""Faults lose nothing: NaN, damaged backups, interruptions, another run, a killed export.

Each test checks the one-line message naming the culprit, and that the last
good state still loads and gives the same `log_prob`.
"""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows.data import digits_arrays
from tfflows.training import (
    Backup,
    BackupEvery,
    Interrupted,
    NonFiniteError,
    NonFiniteGuard,
    ResumeError,
    RunMismatchError,
    TrainConfig,
    build_model,
    replace_directory,
    train,
)

TINY = dict(num_levels=1, num_steps=1, hidden_units=8)
IMAGES = digits_arrays("test")[0][:8]


def config_for(model_dir, **overrides):
    values = dict(
        model="glow",
        model_kwargs=TINY,
        epochs=1,
        steps_per_epoch=2,
        batch_size=16,
        num_samples=4,
        verbose=0,
        model_dir=str(model_dir),
        export_dir=str(model_dir / "saved_model"),
    )
    values.update(overrides)
    return TrainConfig(**values)


def fresh_model():
    model = build_model(TrainConfig(model_kwargs=TINY), (8, 8, 1), tf.distribute.get_strategy())
    model.initialize(digits_arrays("train")[0][:16])
    return model


def log_prob(model):
    return model.log_prob(IMAGES, seed=1).numpy()


def restored_log_prob(directory):
    model = fresh_model()
    epoch, notes = Backup(directory).restore(model)
    return epoch, notes, log_prob(model)


def one_line(error):
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory):
    """A backup directory with epochs 1 and 2 saved, and each generation's log_prob."""
    directory = tmp_path_factory.mktemp("backup")
    model = fresh_model()
    backup = Backup(directory)
    backup.save(model, 1)
    first = log_prob(model)
    model.fit(tf.data.Dataset.from_tensors(digits_arrays("train")[0][:16]), epochs=1, verbose=0)
    backup.save(model, 2)
    second = log_prob(model)
    assert not np.allclose(first, second)
    return directory, first, second


def copy_of(directory, tmp_path):
    target = tmp_path / "backup"
    target.mkdir()
    for path in directory.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return Backup(target)


def test_resume_takes_the_newest_generation(two_generations):
    directory, _, second = two_generations
    epoch, notes, value = restored_log_prob(directory)
    assert epoch == 2 and notes == []
    np.testing.assert_allclose(value, second, rtol=1e-6)


@pytest.mark.parametrize("damaged", ["weights", "metadata"])
def test_a_truncated_file_falls_back_to_the_previous_generation(two_generations, tmp_path, damaged):
    directory, first, _ = two_generations
    backup = copy_of(directory, tmp_path)
    path = getattr(backup, damaged)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    epoch, notes, value = restored_log_prob(backup.directory)
    assert epoch == 1
    assert str(path) in notes[0] and "damaged" in notes[0]
    assert str(backup.previous_weights) in notes[-1]  # says what was used
    np.testing.assert_allclose(value, first, rtol=1e-6)


def test_a_kill_between_the_renames_still_resumes_the_newest(two_generations, tmp_path):
    directory, _, second = two_generations
    backup = copy_of(directory, tmp_path)
    # What a kill after the first rename of the next save leaves behind.
    backup.weights.replace(backup.previous_weights)
    epoch, _, value = restored_log_prob(backup.directory)
    assert epoch == 2
    np.testing.assert_allclose(value, second, rtol=1e-6)


def test_a_backup_written_by_keras_backup_and_restore_still_resumes(two_generations, tmp_path):
    directory, _, second = two_generations
    backup = copy_of(directory, tmp_path)
    backup.previous_weights.unlink()
    backup.previous_metadata.unlink()
    backup.metadata.write_text(json.dumps({"epoch": 2, "batch": 0}))  # no weights hash
    epoch, notes, value = restored_log_prob(backup.directory)
    assert (epoch, notes) == (2, [])
    np.testing.assert_allclose(value, second, rtol=1e-6)


def test_no_loadable_backup_names_the_files_and_the_flag(two_generations, tmp_path):
    directory, _, _ = two_generations
    backup = copy_of(directory, tmp_path)
    for path in (backup.weights, backup.previous_weights):
        path.write_bytes(b"not hdf5")
    with pytest.raises(ResumeError) as error:
        Backup(backup.directory).restore(fresh_model())
    message = one_line(error)
    assert str(backup.weights) in message and str(backup.previous_weights) in message
    assert "--start_over" in message


def test_non_finite_weights_are_never_backed_up_at_step_level(two_generations, tmp_path):
    directory, _, _ = two_generations
    backup = copy_of(directory, tmp_path)
    model = fresh_model()
    backup.restore(model)
    seen = {}

    class Poison(keras.callbacks.Callback):
        """After step 1 records the good log_prob; after step 2 breaks a weight."""

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                seen["good"] = log_prob(self.model)
            if batch == 1:
                variable = self.model.trainable_variables[0]
                variable.assign(np.full(variable.shape, np.nan, "float32"))

    batches = tf.data.Dataset.from_tensors(digits_arrays("train")[0][:16]).repeat(5)
    with pytest.raises(NonFiniteError) as error:
        model.fit(
            batches,
            epochs=3,
            initial_epoch=2,
            verbose=0,
            callbacks=[NonFiniteGuard(), Poison(), BackupEvery(backup, every_steps=1)],
        )
    assert "epoch 3 step 2" in one_line(error)
    assert json.loads(backup.metadata.read_text())["batch"] == 1  # step 1's, not step 2's
    epoch, _, value = restored_log_prob(backup.directory)
    assert epoch == 2
    np.testing.assert_allclose(value, seen["good"], rtol=1e-6)


def test_a_nan_loss_raises_before_the_epoch_backup(two_generations, tmp_path):
    directory, _, second = two_generations
    backup = copy_of(directory, tmp_path)
    before = {p.name: p.read_bytes() for p in backup.directory.iterdir()}
    model = fresh_model()
    backup.restore(model)
    model.optimizer.learning_rate.assign(1e6)
    batches = tf.data.Dataset.from_tensors(digits_arrays("train")[0][:16]).repeat(20)
    with pytest.raises(NonFiniteError) as error:
        model.fit(
            batches,
            epochs=3,
            initial_epoch=2,
            verbose=0,
            callbacks=[NonFiniteGuard(), BackupEvery(backup)],
        )
    assert "loss became nan at epoch 3 step" in one_line(error)
    assert {p.name: p.read_bytes() for p in backup.directory.iterdir()} == before
    epoch, _, value = restored_log_prob(backup.directory)
    assert epoch == 2
    np.testing.assert_allclose(value, second, rtol=1e-6)


def test_a_nan_run_writes_nothing_from_the_bad_weights(tmp_path):
    good = train(config_for(tmp_path, epochs=1))
    best = (tmp_path / "best.keras").read_bytes()
    weights = (tmp_path / "backup" / "latest.weights.h5").read_bytes()
    evaluation = (tmp_path / "evaluation.json").read_text()
    with pytest.raises(NonFiniteError) as error:
        train(config_for(tmp_path, epochs=2, learning_rate=1e3))
    assert "epoch 2 step" in one_line(error)
    assert (tmp_path / "best.keras").read_bytes() == best
    assert (tmp_path / "backup" / "latest.weights.h5").read_bytes() == weights
    assert (tmp_path / "evaluation.json").read_text() == evaluation
    assert json.loads(evaluation)["bits_per_dim"] == pytest.approx(good["bits_per_dim"])
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    served = loaded.signatures["log_prob"](images=tf.constant(IMAGES))["log_prob"].numpy()
    assert np.isfinite(served).all()


def test_another_run_in_model_dir_is_refused_then_start_over(tmp_path, capsys):
    quick = dict(steps_per_epoch=1, validation_split="", export_dir="")
    other = dict(quick, model_kwargs=dict(TINY, hidden_units=4))
    train(config_for(tmp_path, **quick))
    with pytest.raises(RunMismatchError) as error:
        train(config_for(tmp_path, **other))
    message = one_line(error)
    assert "hidden_units=8 there, 4 here" in message
    assert "--start_over" in message and str(tmp_path) in message
    capsys.readouterr()
    train(config_for(tmp_path, start_over=True, **other))
    assert "resuming" not in capsys.readouterr().out
    assert json.loads((tmp_path / "run.json").read_text())["hyperparameters"]["hidden_units"] == 4


def test_sigterm_in_training_says_where_and_keeps_the_backup(tmp_path):
    class Preempt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                os.kill(os.getpid(), signal.SIGTERM)

    config = config_for(tmp_path, epochs=2, export_dir="")
    # Train one epoch, then preempt the second at its second step.
    train(config_for(tmp_path, epochs=1, export_dir=""))
    weights = (tmp_path / "backup" / "latest.weights.h5").read_bytes()
    original_fit = keras.Model.fit

    def fit(self, *args, callbacks=(), **kwargs):
        return original_fit(self, *args, callbacks=[*callbacks, Preempt()], **kwargs)

    keras.Model.fit = fit
    try:
        with pytest.raises(Interrupted) as error:
            train(config)
    finally:
        keras.Model.fit = original_fit
    assert one_line(error) == ("interrupted at epoch 2 step 2; re-run the same command to resume")
    assert error.value.exit_code == 128 + signal.SIGTERM
    assert (tmp_path / "backup" / "latest.weights.h5").read_bytes() == weights
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


def test_a_failed_export_leaves_the_previous_saved_model(tmp_path):
    target = tmp_path / "saved_model"
    replace_directory(target, lambda path: (path.mkdir(), (path / "v").write_text("1")))

    def killed(path):
        path.mkdir()
        (path / "v").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_directory(target, killed)
    assert (target / "v").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]
    replace_directory(target, lambda path: (path.mkdir(), (path / "v").write_text("2")))
    assert (target / "v").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]


def _ctrl_c_as_from_a_terminal():
    # A child inherits an ignored SIGINT (pytest started in the background of a
    # non-interactive shell ignores it), and Python then keeps ignoring Ctrl-C,
    # as a background job should. These tests are about a foreground run.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_binary_exits_in_one_line_and_resumes(tmp_path):
    args = [
        sys.executable,
        "-m",
        "trainers.train",
        "--batch_size=16",
        "--verbose=0",
        "--epochs=2",
        "--steps_per_epoch=3000",  # seconds per epoch (data repeats): the signal lands in epoch 2
        "--num_samples=4",
        "--glow_num_levels=1",
        "--glow_num_steps=1",
        "--glow_hidden_units=8",
        f"--model_dir={tmp_path}",
    ]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    first = subprocess.Popen(
        args,
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_from_a_terminal,
    )
    metadata = tmp_path / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while not metadata.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 128 + signal.SIGINT, out + err
    assert "Traceback" not in err and "cuInit" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted at epoch ") and last.endswith(
        "; re-run the same command to resume"
    ), err
    done = json.loads(metadata.read_text())["epoch"]
    resumed = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming from epoch {done + 1} of 2" in resumed.stdout
    assert resumed.stderr.strip() == "", resumed.stderr  # no start-up banners
    summary = resumed.stdout[resumed.stdout.index("test bits/dim") :]
    assert "(exact likelihood; split 'test', 360 images" in summary
    assert "best.keras chosen on 'validation', 143 images" in summary
    for where in ("samples.png", "evaluation.json", "tensorboard", "saved_model"):
        assert f"{tmp_path}/{where}" in summary


def test_ctrl_c_while_tensorflow_loads_exits_in_one_line(tmp_path):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-m", "trainers.train", f"--model_dir={tmp_path / 'run'}"],
        cwd=repo,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_from_a_terminal,
    )
    time.sleep(0.5)  # importing TensorFlow takes seconds
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGINT, out + err
    assert err.strip() == "interrupted before training started", err
    assert not (tmp_path / "run").exists()
