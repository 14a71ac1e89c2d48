"""`tfflows.layers.batch_statistics`: batch norm on each batch's statistics, read-only."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import layers, models


def chain_with_batch_norm(axis=-1):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 4) if axis == 1 else (4,))
    norm = keras.layers.BatchNormalization(axis=axis, momentum=0.9, epsilon=1e-5)
    model = keras.Model(inputs, keras.layers.Dense(2)(norm(keras.layers.Dense(4)(inputs))))
    rng = np.random.default_rng(0)
    # Non-trivial moving averages and affine parameters, so the two modes differ.
    for variable in norm.weights:
        variable.assign(rng.uniform(0.5, 2.0, variable.shape).astype(np.float32))
    return model, norm


def expected_output(model, norm, x, axis=-1):
    """The model's function with `norm` on `x`'s batch moments, in NumPy."""
    dense_in, dense_out = model.layers[1], model.layers[3]
    h = x @ dense_in.kernel.numpy() + dense_in.bias.numpy()
    moved = np.moveaxis(h, axis, -1)
    axes = tuple(range(moved.ndim - 1))
    mean, var = moved.mean(axis=axes), moved.var(axis=axes)  # biased, as PyTorch's train()
    moved = norm.gamma.numpy() * (moved - mean) / np.sqrt(var + 1e-5) + norm.beta.numpy()
    h = np.moveaxis(moved, -1, axis)
    return h @ dense_out.kernel.numpy() + dense_out.bias.numpy()


@pytest.mark.parametrize("axis", [-1, 1])
def test_normalizes_with_the_batch_moments_and_leaves_moving_averages(axis):
    model, norm = chain_with_batch_norm(axis)
    x = np.random.default_rng(1).normal(2.0, 3.0, (6, 3, 4) if axis == 1 else (6, 4))
    x = x.astype(np.float32)
    weights = [w.numpy().copy() for w in model.weights]
    inference = model(x, training=False).numpy()
    with layers.batch_statistics(model):
        eager = model(x, training=False).numpy()
        graph = tf.function(model)(x).numpy()
    np.testing.assert_allclose(eager, expected_output(model, norm, x, axis), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(graph, eager, rtol=1e-5, atol=1e-5)
    assert not np.allclose(eager, inference, atol=1e-2)
    for before, after in zip(weights, model.weights):
        np.testing.assert_array_equal(before, after.numpy())
    # Outside the context the layer is itself again.
    np.testing.assert_array_equal(model(x, training=False).numpy(), inference)
    assert "call" not in vars(norm)


def test_restores_the_layers_when_the_body_raises():
    model, norm = chain_with_batch_norm()
    with pytest.raises(RuntimeError, match="inside"):
        with layers.batch_statistics([model]):
            raise RuntimeError("inside")
    assert "call" not in vars(norm)


def test_latent_flow_models_sample_on_batch_statistics():
    keras.utils.set_random_seed(0)
    model = models.get(
        "glf", (8, 8, 1), latent_dim=4, filters=(8, 8), hidden_units=16, flow_hidden_units=8
    )
    rng = np.random.default_rng(2)
    for variable in model.flow.trainable_variables + model.decoder.non_trainable_variables:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype(np.float32))
    weights = [w.numpy().copy() for w in model.weights]
    standard = model.sample(16, seed=3)
    batch = model.sample(16, seed=3, batch_statistics=True)
    assert batch.shape == standard.shape
    assert not np.allclose(batch, standard, atol=1e-3)
    np.testing.assert_array_equal(batch, model.sample(16, seed=3, batch_statistics=True))
    # The same images as running the flow's inverse and the decoder by hand in that mode.
    with layers.batch_statistics([model.flow, model.decoder]):
        by_hand = model.decode(model.flow.sample(16, seed=3))
    np.testing.assert_allclose(batch, by_hand, atol=1e-6)
    for before, after in zip(weights, model.weights):
        np.testing.assert_array_equal(before, after.numpy())
    np.testing.assert_array_equal(standard, model.sample(16, seed=3))
