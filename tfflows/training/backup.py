"""Resumable state of a run directory: two backup generations and the run's identity.

`Backup` keeps the newest state and the one before it:

    backup/latest.weights.h5      backup/training_metadata.json   (newest)
    backup/previous.weights.h5    backup/previous_metadata.json   (the one before)

Each metadata file names its weights by SHA-256, so a weights file that is
truncated, damaged or from another generation is recognised whatever moment
a kill interrupted the rotation (new weights are written beside, then the
generations are renamed). `restore` loads the newest pair that loads and says
which files it skipped. Weights are checked to be finite before every save.

`check_run` stores the run's model, effective hyper-parameters (class
defaults, preset, overrides) and data in `run.json`, and refuses a
`model_dir` that holds a different run.
"""

import inspect
import json
import pathlib
import shutil

from tfflows import models
from tfflows.checksums import sha256_of_file
from tfflows.training.faults import NonFiniteError, ResumeError, RunMismatchError, all_finite
from tfflows.training.files import replace_file

__all__ = ["Backup", "RUN_FILE", "check_run", "start_over"]

RUN_FILE = "run.json"
# What defines the weights' structure and what they model: a resumed run must match.
# (The preset and flags count through the hyper-parameters they give.)
_IDENTITY = ("model", "dataset", "pad_to", "num_bits")
# What the trainer writes into model_dir (start_over removes these, nothing else).
_RUN_OUTPUTS = (
    "backup*",
    "best.keras",
    "best.json",
    "metrics.csv",
    "tensorboard",
    "evaluation.json",
    "samples.png",
    RUN_FILE,
)
_START_OVER = "pass --start_over to discard it and start a new run"


class Backup:
    """The two newest training states in `directory` (weights, optimizer, epoch)."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.weights = self.directory / "latest.weights.h5"
        self.metadata = self.directory / "training_metadata.json"
        self.previous_weights = self.directory / "previous.weights.h5"
        self.previous_metadata = self.directory / "previous_metadata.json"

    def save(self, model, epoch, batch=0):
        """Makes `(model, epoch, batch)` the newest generation; the newest becomes the previous.

        Raises `NonFiniteError` (and writes nothing) if a weight is not finite.
        """
        if not all_finite(model):
            where = f"epoch {epoch + 1} step {batch}" if batch else f"the end of epoch {epoch}"
            raise NonFiniteError(
                f"the weights became non-finite at {where}; not backed up. Try a lower "
                "--learning_rate or --clipnorm=1.0 (the previous backup is kept)"
            )
        incoming = replace_file(self.directory / "incoming.weights.h5", model.save_weights)
        metadata = {
            "epoch": int(epoch),
            "batch": int(batch),
            "weights_sha256": sha256_of_file(incoming),
        }
        if self.weights.exists() and self.metadata.exists():
            # Each rename keeps one metadata file whose hash names an existing weights file.
            self.weights.replace(self.previous_weights)
            self.metadata.replace(self.previous_metadata)
        incoming.replace(self.weights)
        replace_file(self.metadata, lambda path: path.write_text(json.dumps(metadata)))

    def exists(self):
        return any(
            path.exists()
            for path in (self.weights, self.metadata, self.previous_weights, self.previous_metadata)
        )

    def restore(self, model, strategy=None):
        """Loads the newest loadable generation into `model`.

        Returns `(epoch, notes)`: the epoch to resume from (None without any
        backup) and one line per damaged file skipped. Raises `ResumeError`
        naming the files when backups exist and none loads.
        """
        if not self.exists():
            return None, []
        notes, candidates = [], []
        for path in (self.metadata, self.previous_metadata):
            if not path.exists():
                continue
            try:
                metadata = json.loads(path.read_text())
                candidates.append((int(metadata["epoch"]), int(metadata.get("batch", 0)), path))
            except (ValueError, KeyError, TypeError) as error:
                notes.append(f"{path} is damaged ({type(error).__name__}: {error})")
        hashes = {}
        for path in (self.weights, self.previous_weights):
            if path.exists():
                hashes.setdefault(sha256_of_file(path), path)
        _build_optimizer(model, strategy)
        for epoch, _, path in sorted(candidates, reverse=True):
            metadata = json.loads(path.read_text())
            default = self.weights if path == self.metadata else self.previous_weights
            weights = (
                hashes.get(metadata["weights_sha256"])
                if "weights_sha256" in metadata
                else (default if default.exists() else None)
            )
            if weights is None:
                notes.append(f"{default} is damaged or missing (does not match {path.name})")
                continue
            try:
                model.load_weights(weights)
            except Exception as error:  # h5py and Keras raise OSError, ValueError, KeyError...
                notes.append(f"{weights} is damaged ({type(error).__name__})")
                continue
            if not all_finite(model):
                notes.append(f"{weights} holds non-finite weights")
                continue
            if notes:
                notes.append(f"resumed from {weights} and {path.name} (epoch {epoch})")
            return epoch, notes
        damaged = "; ".join(notes) or f"no backup in {self.directory} loads"
        raise ResumeError(f"cannot resume: {damaged}; {_START_OVER}")


def _build_optimizer(model, strategy):
    # Loading weights needs the optimizer's variables (as Keras' BackupAndRestore does).
    if model.optimizer is not None and not model.optimizer.built:
        if strategy is None:
            model.optimizer.build(model.trainable_variables)
        else:
            with strategy.scope():
                model.optimizer.build(model.trainable_variables)


def _hyperparameters(config):
    """The model's effective constructor arguments: class defaults, preset, then overrides."""
    parameters = inspect.signature(models.model_class(config.model).__init__).parameters
    values = {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty and name != "num_bits"
    }
    return {**values, **models.preset_config(config.model, config.preset), **config.model_kwargs}


def _identity(config):
    values = {name: getattr(config, name) for name in _IDENTITY}
    values["hyperparameters"] = _hyperparameters(config)
    return json.loads(json.dumps(values, default=str))  # tuples as lists, as stored


def check_run(model_dir, config):
    """Records the run's identity in `model_dir/run.json`, or checks it against `config`.

    Raises `RunMismatchError` naming what differs when `model_dir` holds
    another run. Directories of older runs (without `run.json`) are accepted.
    """
    path = pathlib.Path(model_dir) / RUN_FILE
    wanted = _identity(config)
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except ValueError as error:
            raise RunMismatchError(f"{path} is damaged ({error}); {_START_OVER}") from None
        differences = [
            f"{name}={stored.get(name)!r} there, {wanted[name]!r} here"
            for name in _IDENTITY
            if stored.get(name) != wanted[name]
        ]
        if not differences:
            theirs, ours = stored.get("hyperparameters", {}), wanted["hyperparameters"]
            differences = [
                f"{name}={theirs.get(name)!r} there, {ours.get(name)!r} here"
                for name in sorted(set(theirs) | set(ours))
                if theirs.get(name) != ours.get(name)
            ]
        if differences:
            raise RunMismatchError(
                f"--model_dir={model_dir} holds another run ({'; '.join(differences)}); "
                f"use another --model_dir or {_START_OVER}"
            )
        return
    replace_file(path, lambda p: p.write_text(json.dumps(wanted, indent=2, sort_keys=True)))


def start_over(model_dir):
    """Removes what a previous run wrote in `model_dir` (backups, logs, checkpoints)."""
    model_dir = pathlib.Path(model_dir)
    for pattern in _RUN_OUTPUTS:
        for path in model_dir.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
