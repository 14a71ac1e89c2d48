"""The coupling network's matmul-based output convolution equals Keras' Conv2D."""

import numpy as np
import tensorflow as tf

from tfflows.layers import ConvConditioner


def test_output_conv_matches_keras_conv2d():
    net = ConvConditioner(output_channels=3, num_outputs=2, hidden_units=32)
    net.build((None, 6, 6, 6))
    rng = np.random.default_rng(0)
    net.out.kernel.assign(rng.normal(size=net.out.kernel.shape).astype("float32"))
    net.out.bias.assign(rng.normal(size=net.out.bias.shape).astype("float32"))
    h = tf.constant(rng.normal(size=(2, 6, 6, 32)).astype("float32"))
    fast = net._output_conv(h)  # 32 -> 6 channels: the matmul + shifts path
    np.testing.assert_allclose(fast.numpy(), net.out(h).numpy(), rtol=1e-5, atol=1e-5)


def test_output_conv_gradients_match_keras_conv2d():
    net = ConvConditioner(output_channels=2, num_outputs=2, hidden_units=16)
    net.build((None, 5, 4, 4))
    rng = np.random.default_rng(1)
    net.out.kernel.assign(rng.normal(size=net.out.kernel.shape).astype("float32"))
    h = tf.constant(rng.normal(size=(3, 5, 4, 16)).astype("float32"))
    w = tf.constant(rng.normal(size=(3, 5, 4, 4)).astype("float32"))
    grads = []
    for conv in (net._output_conv, net.out):
        with tf.GradientTape() as tape:
            tape.watch(h)
            loss = tf.reduce_sum(conv(h) * w)
        grads.append(tape.gradient(loss, [h, net.out.kernel, net.out.bias]))
    for fast, ref in zip(*grads):
        np.testing.assert_allclose(fast.numpy(), ref.numpy(), rtol=1e-4, atol=1e-4)
