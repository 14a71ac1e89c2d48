"""The training callbacks: learning-rate halving and the NaN terminator."""

import math

import keras
import numpy as np
import pytest

from tfflows import models
from tfflows.training import TerminateOnNaN, step_halving


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


def test_terminate_on_nan_stops_and_says_what_to_try(capsys):
    model = models.get("vae", (8, 8, 1), latent_dim=2, filters=(4, 4), hidden_units=8)
    model.compile(keras.optimizers.Adam(1e-3))
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_epoch_begin(2)
    callback.on_train_batch_end(4, {"loss": 1.5})
    assert not model.stop_training
    callback.on_train_batch_end(5, {"loss": math.nan})
    assert model.stop_training
    message = capsys.readouterr().out
    assert "epoch 3, batch 6" in message
    assert "--learning_rate" in message and "--clipnorm" in message
