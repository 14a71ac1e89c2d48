"""The optimizer's moving average of the weights (`make_optimizer(use_ema=...)`, the swap) and
the batch norms' statistics recomputed for it."""

import keras
import numpy as np
import pytest

from tfflows import models
from tfflows.layers import recalibrate_batch_norm
from tfflows.optimizers import FusedAdam, SplitAdam
from tfflows.training import moving_average_weights


def _regression(momentum=0.5):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(FusedAdam(0.1, use_ema=True, ema_momentum=momentum), loss="mse")
    return model


def _weights(model):
    return [variable.numpy() for variable in model.trainable_variables]


def test_the_average_is_swapped_in_and_the_trained_weights_come_back():
    model, momentum = _regression(), 0.5
    rng = np.random.default_rng(0)
    average = None
    for _ in range(4):
        model.train_on_batch(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)))
        now = _weights(model)
        # Keras' average: the first step copies the weights, then m a + (1 - m) w.
        average = (
            now
            if average is None
            else [momentum * a + (1 - momentum) * w for a, w in zip(average, now)]
        )
    trained = _weights(model)
    with moving_average_weights(model) as swapped:
        assert swapped is model
        inside = _weights(model)
    for got, want, weights in zip(inside, average, trained):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, weights)  # four steps of lr 0.1 move every weight
    for got, want in zip(_weights(model), trained):
        np.testing.assert_array_equal(got, want)


def test_the_trained_weights_come_back_after_an_exception():
    model = _regression()
    rng = np.random.default_rng(1)
    for _ in range(3):
        model.train_on_batch(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)))
    trained = _weights(model)
    with pytest.raises(RuntimeError, match="inside"):
        with moving_average_weights(model):
            raise RuntimeError("inside")
    for got, want in zip(_weights(model), trained):
        np.testing.assert_array_equal(got, want)


def test_it_needs_an_averaging_optimizer_that_has_stepped():
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    plain.compile(FusedAdam(0.1), loss="mse")
    with pytest.raises(ValueError, match="use_ema=True"):
        with moving_average_weights(plain):
            pass
    with pytest.raises(ValueError, match="first step"):
        with moving_average_weights(_regression()):
            pass


def test_make_optimizer_passes_keras_options_through():
    glf = models.get("glf", (8, 8, 1), latent_dim=2, flow_blocks=1, flow_hidden_units=4)
    glf(np.zeros((1, 8, 8, 1), np.uint8))
    optimizer = glf.make_optimizer(1e-3, use_ema=True, ema_momentum=0.9)
    assert isinstance(optimizer, SplitAdam) and optimizer.use_ema
    assert optimizer.ema_momentum == 0.9
    assert optimizer.group_l2 == pytest.approx(glf.flow_weight_decay / glf.nats_per_loss_unit)
    assert optimizer.in_group(glf.flow.trainable_variables[0])
    vae = models.get("vae", (8, 8, 1), latent_dim=2, filters=(4, 4), hidden_units=8)
    optimizer = vae.make_optimizer(1e-3, use_ema=True, ema_momentum=0.99)
    assert type(optimizer) is FusedAdam and optimizer.get_config()["ema_momentum"] == 0.99


def _with_batch_norm():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization(momentum=0.9)]
    )
    model.compile(FusedAdam(0.1, use_ema=True, ema_momentum=0.5), loss="mse")
    return model


def test_recalibration_averages_the_batch_statistics():
    model = _with_batch_norm()
    norm = model.layers[-1]
    rng = np.random.default_rng(2)
    batches = [rng.normal(loc=i, size=(16, 3)).astype(np.float32) for i in range(3)]
    assert recalibrate_batch_norm(model, batches) == 3
    hidden = [model.layers[0](batch).numpy() for batch in batches]
    np.testing.assert_allclose(
        norm.moving_mean.numpy(), np.mean([h.mean(axis=0) for h in hidden], axis=0), rtol=1e-5
    )
    np.testing.assert_allclose(
        norm.moving_variance.numpy(), np.mean([h.var(axis=0) for h in hidden], axis=0), rtol=1e-5
    )
    assert norm.momentum == 0.9
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert recalibrate_batch_norm(plain, batches) == 0


def test_the_average_gets_batch_statistics_of_its_own_inside_the_block():
    model = _with_batch_norm()
    norm = model.layers[-1]
    rng = np.random.default_rng(3)
    for _ in range(4):
        model.train_on_batch(rng.normal(size=(8, 3)), rng.normal(size=(8, 4)))
    trained, statistics = _weights(model), [norm.moving_mean.numpy(), norm.moving_variance.numpy()]
    batches = [rng.normal(size=(16, 3)).astype(np.float32) for _ in range(2)]
    with moving_average_weights(model, batches):
        averaged = _weights(model)
        inside = [norm.moving_mean.numpy(), norm.moving_variance.numpy()]
    hidden = [batch @ averaged[0] + averaged[1] for batch in batches]
    np.testing.assert_allclose(inside[0], np.mean([h.mean(0) for h in hidden], 0), rtol=1e-5)
    np.testing.assert_allclose(inside[1], np.mean([h.var(0) for h in hidden], 0), rtol=1e-5)
    for got, want in zip(_weights(model), trained):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), statistics[0])
    np.testing.assert_array_equal(norm.moving_variance.numpy(), statistics[1])
