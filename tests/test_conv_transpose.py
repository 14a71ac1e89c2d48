"""ShiftedConv2DTranspose / conv_transpose_by_output_shifts against TF's transposed convolution."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows.layers import ShiftedConv2DTranspose
from tfflows.layers.conv_transpose import conv_transpose_by_output_shifts


@pytest.mark.parametrize(
    "strides, height, width, cin, cout",
    [(2, 7, 5, 8, 1), (2, 4, 4, 12, 3), (1, 5, 6, 4, 1), (3, 3, 4, 9, 2)],
)
def test_equals_conv2d_transpose_with_gradients(strides, height, width, cin, cout):
    rng = np.random.default_rng(0)
    h = tf.constant(rng.normal(size=(2, height, width, cin)), tf.float64)
    kernel = tf.constant(rng.normal(size=(2 * strides, 2 * strides, cout, cin)), tf.float64)
    bias = tf.constant(rng.normal(size=(cout,)), tf.float64)
    out_shape = [2, strides * height, strides * width, cout]

    def reference(h, kernel, bias):
        return tf.nn.bias_add(tf.nn.conv2d_transpose(h, kernel, out_shape, strides, "SAME"), bias)

    def shifted(h, kernel, bias):
        return conv_transpose_by_output_shifts(h, kernel, bias, strides)

    weights = tf.constant(rng.normal(size=out_shape), tf.float64)
    results = []
    for fn in (reference, shifted):
        with tf.GradientTape() as tape:
            tape.watch([h, kernel, bias])
            y = fn(h, kernel, bias)
            loss = tf.reduce_sum(weights * y)
        results.append([y, *tape.gradient(loss, [h, kernel, bias])])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_layer_takes_the_shifted_path_for_few_outputs_and_keeps_keras_results(tmp_path):
    inputs = keras.Input((7, 7, 16))
    layer = ShiftedConv2DTranspose(2, 4, strides=2, padding="same", activation="sigmoid")
    model = keras.Model(inputs, layer(inputs))
    assert layer._use_shifts(inputs)
    wide = ShiftedConv2DTranspose(8, 4, strides=2, padding="same")
    assert not wide._use_shifts(inputs)  # 4 * 8 > 16 channels: Keras' own call
    x = np.random.default_rng(1).normal(size=(3, 7, 7, 16)).astype(np.float32)
    plain = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same", activation="sigmoid")
    plain.build((None, 7, 7, 16))
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(model(x), plain(x), rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(keras.saving.load_model(tmp_path / "m.keras")(x), model(x))


def test_refuses_a_kernel_that_is_not_twice_the_stride():
    with pytest.raises(ValueError, match="4x4 kernel for stride 2"):
        conv_transpose_by_output_shifts(tf.zeros([1, 2, 2, 4]), tf.zeros([3, 3, 1, 4]), None, 2)
