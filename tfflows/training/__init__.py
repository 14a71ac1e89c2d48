"""Training runs for the trainer binaries: strategies, callbacks and the fit/evaluate/export loop.

The top layer of the library: it uses `models`, `export`, `data`, `metrics`
and `visualization`, and reads no flags (the binaries in `trainers/` do).
Faults (`faults`: one-line `TrainingError`s), resumable state (`backup`: two
generations, the run's identity) and atomic writes (`files`) live beside the
run itself (`train`).
"""

from tfflows.training.backup import Backup, check_run, start_over
from tfflows.training.callbacks import (
    BackupEvery,
    BestCheckpoint,
    ResumableCSVLogger,
    SampleGrid,
    step_halving,
)
from tfflows.training.config import TrainConfig, check_config
from tfflows.training.distribution import (
    STRATEGIES,
    configure_cpu_devices,
    is_chief,
    make_strategy,
    worker_id,
)
from tfflows.training.evaluation import (
    SavedModelClient,
    evaluate,
    reconstruction_fid,
    sample_fid,
)
from tfflows.training.faults import (
    ConfigError,
    Interrupted,
    NonFiniteError,
    NonFiniteGuard,
    ResumeError,
    RunMismatchError,
    TrainingError,
    all_finite,
    interruptible,
)
from tfflows.training.files import replace_directory, replace_file
from tfflows.training.moving_average import averaging_options, moving_average_weights
from tfflows.training.temperature import check_temperatures, select_temperature
from tfflows.training.train import build_model, image_shape_of, train

__all__ = [
    "averaging_options",
    "STRATEGIES",
    "Backup",
    "BackupEvery",
    "BestCheckpoint",
    "ConfigError",
    "Interrupted",
    "NonFiniteError",
    "NonFiniteGuard",
    "ResumableCSVLogger",
    "ResumeError",
    "RunMismatchError",
    "SampleGrid",
    "SavedModelClient",
    "TrainConfig",
    "TrainingError",
    "all_finite",
    "build_model",
    "check_config",
    "check_run",
    "check_temperatures",
    "interruptible",
    "replace_directory",
    "replace_file",
    "start_over",
    "configure_cpu_devices",
    "evaluate",
    "reconstruction_fid",
    "image_shape_of",
    "is_chief",
    "make_strategy",
    "moving_average_weights",
    "sample_fid",
    "select_temperature",
    "step_halving",
    "train",
    "worker_id",
]
