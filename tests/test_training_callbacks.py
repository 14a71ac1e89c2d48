"""The training callbacks: learning-rate halving, the non-finite guard and the resumable CSV log."""

import csv
import math

import keras
import numpy as np
import pytest

from tfflows import models
from tfflows.training import NonFiniteError, NonFiniteGuard, ResumableCSVLogger, step_halving


@pytest.mark.parametrize(
    "every, after, expected",
    [
        (0, (), [1.0, 1.0, 1.0, 1.0, 1.0]),
        (2, (), [1.0, 1.0, 0.5, 0.5, 0.25]),  # halve every 2 epochs
        (0, (3,), [1.0, 1.0, 1.0, 0.5, 0.5]),  # halve once after epoch 3 (GLF on MNIST)
        (2, (3,), [1.0, 1.0, 0.5, 0.25, 0.125]),
    ],
)
def test_step_halving(every, after, expected):
    schedule = step_halving(1.0, every=every, after=after)
    np.testing.assert_allclose([schedule(epoch) for epoch in range(5)], expected)


def test_non_finite_guard_raises_naming_epoch_step_and_what_to_try():
    model = models.get("vae", (8, 8, 1), latent_dim=2, filters=(4, 4), hidden_units=8)
    model.compile(keras.optimizers.Adam(1e-3))
    guard = NonFiniteGuard()
    guard.set_model(model)
    guard.on_epoch_begin(2)
    guard.on_train_batch_end(4, {"loss": 1.5})
    with pytest.raises(NonFiniteError) as error:
        guard.on_train_batch_end(5, {"loss": math.nan})
    message = str(error.value)
    assert "epoch 3 step 6" in message and "\n" not in message
    assert "--learning_rate" in message and "--clipnorm" in message


def _fit_tiny(path, epochs, initial_epoch=0):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((4, 2), "float32")
    model.fit(
        x,
        x[:, :1],
        epochs=epochs,
        initial_epoch=initial_epoch,
        verbose=0,
        callbacks=[ResumableCSVLogger(str(path))],
    )


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_resumable_csv_logger_drops_the_epochs_a_resumed_run_does_again(tmp_path):
    path = tmp_path / "metrics.csv"
    _fit_tiny(path, epochs=3)  # a killed run that logged epoch 2 but committed only 2 epochs
    first = _rows(path)
    assert [row["epoch"] for row in first] == ["0", "1", "2"]
    _fit_tiny(path, epochs=4, initial_epoch=2)
    rows = _rows(path)
    assert [row["epoch"] for row in rows] == ["0", "1", "2", "3"]
    assert rows[:2] == first[:2]  # the kept epochs are untouched
    assert open(path).read().count("epoch") == 1  # one header, not a second one mid-file


def test_resumable_csv_logger_appends_on_a_clean_resume(tmp_path):
    path = tmp_path / "metrics.csv"
    _fit_tiny(path, epochs=2)
    _fit_tiny(path, epochs=3, initial_epoch=2)
    assert [row["epoch"] for row in _rows(path)] == ["0", "1", "2"]
    assert open(path).read().count("epoch") == 1
