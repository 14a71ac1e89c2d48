"""The time-budget callbacks of the benchmarks: the training curve and the timed phase switch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import time_budget
from benchmarks.time_budget import TimeBudget, TimedPhaseSwitch
from tfflows import models
from tfflows.data import digits_arrays


def test_the_curve_recovers_each_intervals_mean_from_kerass_running_means():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    budget = TimeBudget(None, curve_seconds=1e-9)  # a point after every step
    history = model.fit(x, y, batch_size=8, epochs=2, callbacks=[budget], verbose=0)
    assert len(budget.curve) == 16 and [p["steps"] for p in budget.curve] == list(range(1, 17))
    for epoch in range(2):
        losses = [p["loss"] for p in budget.curve[8 * epoch : 8 * (epoch + 1)]]
        # The running mean Keras logs is the mean of the intervals' means.
        assert np.mean(losses) == pytest.approx(history.history["loss"][epoch], rel=1e-5)
    assert budget.curve[0]["loss"] > budget.curve[-1]["loss"]  # training, not a running mean


def test_a_curve_point_spans_epochs_and_survives_a_spike(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(time_budget.time, "perf_counter", lambda: now[0])
    budget = TimeBudget(None, curve_seconds=10.0)
    budget.on_train_batch_begin(0)
    # Step values 1, 2, 3 in epoch 1 and a spike of 1e9 then 10, 20 in epoch 2.
    for epoch, values in enumerate([(1.0, 2.0, 3.0), (1e9, 10.0, 20.0)]):
        budget.on_epoch_begin(epoch)
        for step in range(len(values)):
            now[0] += 1.0 if (epoch, step) != (1, 2) else 5.0  # the last step crosses 10 s
            running = np.float32(np.mean(values[: step + 1]))  # Keras' float32 running mean
            budget.on_train_batch_end(step, {"loss": running})
    assert len(budget.curve) == 1 and budget.curve[0]["steps"] == 6
    assert budget.curve[0]["loss"] == pytest.approx((6.0 + 1e9 + 30.0) / 6, rel=1e-6)
    budget.on_epoch_begin(2)
    for step in range(2):
        now[0] += 6.0
        budget.on_train_batch_end(step, {"loss": np.float32(np.mean((4.0, 6.0)[: step + 1]))})
    assert budget.curve[1]["loss"] == 5.0  # the spike is in no later point


@pytest.mark.parametrize("fraction, phase, switch_step", [(0.0, 2, 0), (1.0, 1, None)])
def test_timed_phase_switch(fraction, phase, switch_step):
    images = digits_arrays("train")[0][:64]
    keras.utils.set_random_seed(0)
    model = models.get("vae_flow_decoder", (8, 8, 1), preset="small")
    model.initialize(images)
    model.compile(model.make_optimizer(1e-3))
    budget = TimeBudget(60.0)
    switch = TimedPhaseSwitch(budget, fraction)
    batches = tf.data.Dataset.from_tensor_slices(images).batch(16)
    model.fit(batches, epochs=1, callbacks=[budget, switch], verbose=0)
    assert model.phase == phase and switch.switch_step == switch_step
    if phase == 2:  # a fresh Adam for phase 2: the step count restarted at the switch
        assert int(model.optimizer.iterations) == 4
