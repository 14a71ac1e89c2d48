"""The configuration of a training run (what the trainer binaries' flags fill in)."""

import dataclasses
import pathlib

from tfflows import data, models
from tfflows.training.distribution import STRATEGIES
from tfflows.training.faults import ConfigError

__all__ = ["TrainConfig", "check_config"]


@dataclasses.dataclass
class TrainConfig:
    """Everything `tfflows.training.train` needs; every field has a working default.

    Attributes:
      model: registered model name (`tfflows.models.names()`).
      preset: hyper-parameter preset of the model ("default", "small", ...).
      model_kwargs: hyper-parameters over the preset (`{"num_steps": 4}`).
      dataset: `tfflows.data` name; "digits" needs no file.
      data_dir: TFDS data directory, or a directory of MNIST/Fashion IDX files.
      pad_to: zero-pad images to `pad_to x pad_to` (e.g. 32 for MNIST in Glow).
      num_bits: bit depth the model sees.
      download: let TFDS download and prepare a data set that is not in
        `data_dir` (never done otherwise: missing data is an error at once).
      data_autotune: tf.data autotuning of the input pipelines (`data.load`'s
        `autotune`; off avoids TF 2.21's stall of tens of seconds when Keras
        deletes the last epoch's iterator, seen on CPU with MNIST).
      epochs, batch_size: epochs, and the global batch size (over all replicas).
      learning_rate, lr_halve_every, lr_halve_after: Adam's rate and its
        step-halving schedule (see `callbacks.step_halving`).
      clipnorm: gradient-norm clipping (None: none).
      ema_momentum: keep a moving average of the weights with this momentum
        (Keras' `use_ema`); training ends with the average, its batch norms'
        statistics recomputed over 100 training batches, so the test
        metrics, samples and export use it, while validation during training
        and `best.keras` see the trained weights (None: no average).
      steps_per_epoch: cap on training steps per epoch (None: the whole set).
      train_split, validation_split, test_split: splits as `tfflows.data.load`
        takes them. "validation" is the data set's validation split, carved
        from its training split with a fixed rule (so "train" is the rest),
        and picks `best.keras`; the final evaluation is on "test" only, so the
        reported numbers were not selected on it. validation_split "" skips
        validation (and `best.keras`).
      model_dir: checkpoints, metrics.csv, TensorBoard logs, samples, evaluation.
      export_dir: where the SavedModel goes ("" skips the export).
      strategy: "default", "mirrored", "multi_worker" or "tpu".
      tpu: the TPU's name, for strategy "tpu".
      jit_compile: XLA-compile the loss and gradients.
      seed: seed of weights, shuffling and dequantization.
      backup_every_steps: also back up every N steps within an epoch (0: epoch ends only).
      start_over: discard what a previous run left in `model_dir` (backups,
        logs, `best.keras`) instead of resuming it.
      num_samples: images in the sample grids.
      verbose: Keras' progress output (1 bar, 2 one line per epoch, 0 silent).
    """

    model: str = "glow"
    preset: str = "small"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    dataset: str = "digits"
    data_dir: str | None = None
    pad_to: int | None = None
    num_bits: int = 8
    data_autotune: bool = True
    download: bool = False
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_halve_every: int = 0
    lr_halve_after: tuple = ()
    clipnorm: float | None = None
    ema_momentum: float | None = None
    steps_per_epoch: int | None = None
    train_split: str = "train"
    validation_split: str = "validation"
    test_split: str = "test"
    model_dir: str = "runs/default"
    export_dir: str = ""
    strategy: str = "default"
    tpu: str | None = None
    jit_compile: bool = False
    seed: int = 0
    backup_every_steps: int = 0
    start_over: bool = False
    num_samples: int = 64
    verbose: int = 1


def _choices(values):
    return ", ".join(sorted(values))


def check_config(config):
    """Raises `ConfigError` naming the first invalid field, before anything runs or is written.

    The batch size's divisibility by the replicas is checked by `train` once
    the strategy exists.
    """
    if config.model not in models.names():
        raise ConfigError(
            f"unknown model {config.model!r}; choose one of {_choices(models.names())}"
        )
    try:
        models.preset_config(config.model, config.preset)
    except ValueError as error:  # its message lists the model's presets
        raise ConfigError(str(error)) from None
    if config.dataset not in data.NAMES:
        raise ConfigError(
            f"unknown dataset {config.dataset!r}; choose one of {_choices(data.NAMES)}"
        )
    for name in ("epochs", "batch_size", "num_bits", "num_samples"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"{name} must be positive, got {getattr(config, name)}")
    for name in ("steps_per_epoch", "pad_to"):
        value = getattr(config, name)
        if value is not None and value <= 0:
            raise ConfigError(f"{name} must be positive (or unset), got {value}")
    if config.backup_every_steps < 0:
        raise ConfigError(f"backup_every_steps must be >= 0, got {config.backup_every_steps}")
    if config.strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {config.strategy!r}; choose one of {_choices(STRATEGIES)}"
        )
    for name in ("model_dir", "export_dir"):
        path = getattr(config, name)
        if path and pathlib.Path(path).exists() and not pathlib.Path(path).is_dir():
            raise ConfigError(f"{name} {path} is a file, not a directory")
    try:
        data.check_available(config.dataset, config.data_dir, download=config.download)
    except ValueError as error:  # DataNotFoundError too: a one-line message naming the files
        raise ConfigError(str(error)) from None
    if config.validation_split and config.validation_split == config.test_split:
        raise ConfigError(
            f"validation_split and test_split are both {config.test_split!r}: best.keras would "
            "be chosen on the test set; use validation_split='validation' (or '' for none)"
        )
