"""Keras callbacks for training generative models."""

import csv
import io
import json
import math
import pathlib

import keras
import tensorflow as tf

from tfflows import visualization
from tfflows.metrics.finite_samples import warn_if_nonfinite
from tfflows.training.files import replace_file

__all__ = [
    "BackupEvery",
    "BestCheckpoint",
    "ResumableCSVLogger",
    "SampleGrid",
    "step_halving",
]


def step_halving(initial_learning_rate, every=0, after=()):
    """A `LearningRateScheduler` function halving the rate on the papers' schedules.

    `lr(epoch) = initial * 0.5 ** (epoch // every + #{a in after: epoch >= a})`:
    `every=50` halves every 50 epochs (GLF on CIFAR-10; the flow-decoder VAE
    uses 250), `after=(50,)` halves once after 50 epochs (GLF on MNIST).
    """
    after = tuple(int(a) for a in after)

    def schedule(epoch, lr=None):
        del lr
        halvings = (epoch // every if every else 0) + sum(epoch >= a for a in after)
        return float(initial_learning_rate * 0.5**halvings)

    return schedule


class ResumableCSVLogger(keras.callbacks.CSVLogger):
    """An appending `CSVLogger` whose rows match the epoch a resumed run starts from.

    `BackupEvery` commits an epoch after the other callbacks have seen its
    end (it goes last in the list), so a run killed in between has logged an
    epoch that the resumed run will do again. On the first epoch of a run this
    drops the rows of that epoch and later ones, so each epoch is logged once,
    with the values of the run whose weights were kept.
    """

    def __init__(self, filename, separator=","):
        super().__init__(filename, separator=separator, append=True)
        self._first_epoch_seen = False

    def on_train_begin(self, logs=None):
        self._first_epoch_seen = False
        super().on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        if not self._first_epoch_seen:
            self._first_epoch_seen = True
            self._drop_rows_from(epoch)
        super().on_epoch_begin(epoch, logs)

    def _drop_rows_from(self, epoch):
        self.csv_file.close()
        with tf.io.gfile.GFile(self.filename) as f:
            rows = list(csv.reader(f, delimiter=self.sep))
        if rows:
            header, body = rows[0], rows[1:]
            column = header.index("epoch")
            kept = [row for row in body if int(row[column]) < epoch]
            if len(kept) < len(body):
                out = io.StringIO()
                csv.writer(out, delimiter=self.sep, lineterminator="\n").writerows([header, *kept])
                # Atomically: a kill here must not lose the rows kept.
                replace_file(self.filename, lambda path: path.write_text(out.getvalue()))
        super().on_train_begin()  # reopens the file for appending, as Keras does


class BackupEvery(keras.callbacks.Callback):
    """Saves a `Backup` generation at each epoch end, and every `every_steps` steps if > 0.

    Goes last in the callback list, so that an epoch is committed only once
    the logs before it have it. A step backup records the epoch it is in: a
    resumed run starts that epoch again from the step's weights (as Keras'
    `BackupAndRestore` does).
    """

    def __init__(self, backup, every_steps=0):
        super().__init__()
        self.backup = backup
        self.every_steps = int(every_steps or 0)
        self._epoch, self._steps = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        if self.every_steps and self._steps % self.every_steps == 0:
            self.backup.save(self.model, self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self.backup.save(self.model, epoch + 1)


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model as `.keras` when `monitor` reaches a new minimum, atomically.

    The best value and its epoch are kept beside it (`<name>.json`), so a
    resumed run compares with the best of the whole run, not of its own epochs.
    Non-finite values never count as improvements.
    """

    def __init__(self, path, monitor="val_bits_per_dim"):
        super().__init__()
        self.path = pathlib.Path(path)
        self.record = self.path.with_suffix(".json")
        self.monitor = monitor

    def best(self):
        try:
            return float(json.loads(self.record.read_text())[self.monitor])
        except (OSError, ValueError, KeyError):
            return math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)) or float(value) >= self.best():
            return
        replace_file(self.path, self.model.save)
        record = {self.monitor: float(value), "epoch": epoch + 1}
        replace_file(self.record, lambda path: path.write_text(json.dumps(record)))


class SampleGrid(keras.callbacks.Callback):
    """Writes a grid of samples each epoch to TensorBoard (and optionally a PNG).

    Uses a fixed seed, so successive grids show the same latents decoded by a
    model as it trains.
    """

    def __init__(self, log_dir=None, num_samples=36, temperature=1.0, seed=0, png_path=None):
        super().__init__()
        self.num_samples = num_samples
        self.temperature = temperature
        self.seed = seed
        self.png_path = png_path
        self._writer = tf.summary.create_file_writer(str(log_dir)) if log_dir else None

    def on_epoch_end(self, epoch, logs=None):
        images = self.model.sample(self.num_samples, temperature=self.temperature, seed=self.seed)
        self.nonfinite_samples = warn_if_nonfinite(images, f"SampleGrid, epoch {epoch + 1}")
        if self._writer is not None:
            with self._writer.as_default():
                visualization.image_summary(
                    "samples",
                    images,
                    step=epoch + 1,
                    max_outputs=self.num_samples,
                    value_range=(0.0, 1.0),
                )
            self._writer.flush()
        if self.png_path:
            # Small images (digits are 8x8) are magnified to be seen.
            scale = max(1, 64 // int(images.shape[1]))
            visualization.save_sample_grid(
                images, self.png_path, value_range=(0.0, 1.0), scale=scale
            )
