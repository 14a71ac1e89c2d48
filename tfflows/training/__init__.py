"""Training runs for the trainer binaries: strategies, callbacks and the fit/evaluate/export loop.

The top layer of the library: it uses `models`, `export`, `data`, `metrics`
and `visualization`, and reads no flags (the binaries in `trainers/` do).
"""

from tfflows.training.callbacks import (
    ResumableCSVLogger,
    SampleGrid,
    TerminateOnNaN,
    step_halving,
)
from tfflows.training.config import TrainConfig
from tfflows.training.distribution import (
    STRATEGIES,
    configure_cpu_devices,
    is_chief,
    make_strategy,
    worker_id,
)
from tfflows.training.evaluation import SavedModelClient, evaluate, sample_fid
from tfflows.training.moving_average import averaging_options, moving_average_weights
from tfflows.training.train import build_model, image_shape_of, train

__all__ = [
    "averaging_options",
    "STRATEGIES",
    "ResumableCSVLogger",
    "SampleGrid",
    "SavedModelClient",
    "TerminateOnNaN",
    "TrainConfig",
    "build_model",
    "configure_cpu_devices",
    "evaluate",
    "image_shape_of",
    "is_chief",
    "make_strategy",
    "moving_average_weights",
    "sample_fid",
    "step_halving",
    "train",
    "worker_id",
]
