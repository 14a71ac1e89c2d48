"""What stops a training run early, and how it says so in one line.

Every error a run can meet on its own (not a bug) is a `TrainingError` whose
message names the culprit and what to do; the trainer binary prints it as one
line and exits non-zero. `NonFiniteGuard` raises before any later callback
(checkpoint, backup, log) sees non-finite weights; `interruptible` turns
SIGTERM (preemption) into `Interrupted`, as Ctrl-C is `KeyboardInterrupt`.
"""

import contextlib
import math
import signal
import threading

import keras
import numpy as np

__all__ = [
    "ConfigError",
    "Interrupted",
    "NonFiniteError",
    "NonFiniteGuard",
    "ResumeError",
    "RunMismatchError",
    "TrainingError",
    "all_finite",
    "interruptible",
]


class TrainingError(Exception):
    """A run stopped for a reason it can state in one line; `exit_code` for the binary."""

    exit_code = 1


class ConfigError(TrainingError, ValueError):
    """The configuration is invalid (a usage error: nothing was started)."""

    exit_code = 2


class NonFiniteError(TrainingError):
    """The loss or the weights became NaN or infinite; nothing was saved from them."""


class ResumeError(TrainingError):
    """No backup in `model_dir` could be loaded."""


class RunMismatchError(TrainingError):
    """`model_dir` holds a run of another model or configuration."""

    exit_code = 2


class Interrupted(TrainingError):
    """SIGTERM or SIGINT arrived; the state on disk is the last consistent one."""

    def __init__(self, message, signum=signal.SIGINT):
        super().__init__(message)
        self.exit_code = 128 + int(signum)


def all_finite(model):
    """Whether every weight of `model` (and of its optimizer) is finite."""
    variables = list(model.weights)
    if model.optimizer is not None:
        variables += list(model.optimizer.variables)
    for variable in variables:
        value = keras.ops.convert_to_numpy(variable)
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            return False
    return True


_ADVICE = (
    "try a lower --learning_rate, gradient clipping (--clipnorm=1.0) or a larger --batch_size; "
    "nothing was saved from these weights (a re-run resumes from the last good backup)"
)


class NonFiniteGuard(keras.callbacks.Callback):
    """Raises `NonFiniteError` at the first non-finite loss or weight.

    Put it first in the callback list: Keras calls `on_epoch_end` in list
    order, so the checkpoint and backup callbacks after it never see the bad
    weights. It also tracks where training is (`epoch`, `step`: 1-based, as
    Keras' progress bar shows them) for the messages of interruptions.
    """

    def __init__(self):
        super().__init__()
        self.epoch, self.step = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.step = epoch + 1, 0

    def on_train_batch_end(self, batch, logs=None):
        self.step = batch + 1
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise NonFiniteError(
                f"the loss became {float(loss)} at epoch {self.epoch} step {self.step}; {_ADVICE}"
            )

    def on_epoch_end(self, epoch, logs=None):
        # The last step's update can break the weights after a finite loss.
        if not all_finite(self.model):
            raise NonFiniteError(
                f"the weights became non-finite at the end of epoch {self.epoch}; {_ADVICE}"
            )


@contextlib.contextmanager
def interruptible():
    """Within the block, SIGTERM raises `Interrupted` as SIGINT raises `KeyboardInterrupt`.

    Files are written atomically (`tfflows.training.files`), so stopping
    anywhere leaves the previous consistent state on disk.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        del frame
        raise Interrupted("terminated", signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
