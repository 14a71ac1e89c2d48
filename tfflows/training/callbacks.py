"""Keras callbacks for training generative models."""

import csv
import io
import math

import keras
import tensorflow as tf

from tfflows import visualization

__all__ = ["ResumableCSVLogger", "SampleGrid", "TerminateOnNaN", "step_halving"]


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

    `BackupAndRestore` commits an epoch after the other callbacks have seen its
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
                with tf.io.gfile.GFile(self.filename, "w") as f:
                    f.write(out.getvalue())
        super().on_train_begin()  # reopens the file for appending, as Keras does


class TerminateOnNaN(keras.callbacks.Callback):
    """Stops training at a non-finite loss and says where and what to try."""

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            step = int(self.model.optimizer.iterations.numpy())
            print(
                f"\nTerminateOnNaN: the loss became {float(loss)} at epoch {self._epoch + 1}, "
                f"batch {batch + 1} (optimizer step {step}). Try a lower --learning_rate, "
                "gradient clipping (--clipnorm=1.0), or a larger batch; flows with affine "
                "couplings are steadier with --scale_activation=tanh or additive coupling."
            )
            self.model.stop_training = True


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
