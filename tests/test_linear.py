"""Linear: Dense's function with PyTorch's kernel layout."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows.layers import Linear


@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 7)])
def test_linear_is_dense_with_the_kernel_transposed(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    linear = Linear(4, activation="relu", bias_initializer="random_normal")
    dense = keras.layers.Dense(4, activation="relu")
    dense.build(shape)
    y = linear(x)
    dense.set_weights([linear.kernel.numpy().T, linear.bias.numpy()])
    assert linear.kernel.shape == (4, 7) and y.shape == (*shape[:-1], 4)
    np.testing.assert_allclose(y, dense(x), rtol=1e-5, atol=1e-6)

    def grads(layer):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(layer(x)))
        return tape.gradient(loss, layer.trainable_variables)

    got, expected = grads(linear), grads(dense)
    np.testing.assert_allclose(got[0], tf.transpose(expected[0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-6)


def test_linear_without_bias_and_in_a_saved_model(tmp_path):
    inputs = keras.Input((6,))
    model = keras.Model(inputs, Linear(3, use_bias=False, name="fc")(inputs))
    assert len(model.weights) == 1
    x = np.random.default_rng(1).normal(size=(4, 6)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    clone = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(clone(x), model(x))
    assert clone.get_layer("fc").get_config()["use_bias"] is False
