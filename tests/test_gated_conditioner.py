"""Flow++'s gated coupling network (`layers.GatedConditioner`) and its use in the flows."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows import layers, models
from tfflows.data import digits_arrays


def randomize(layer, scale=0.1, seed=0):
    rng = np.random.default_rng(seed)
    for variable in layer.trainable_variables:
        variable.assign(scale * rng.standard_normal(variable.shape))
    return layer


def built(conditional_shape=None, **kwargs):
    net = layers.GatedConditioner(3, conditional_shape=conditional_shape, **kwargs)
    net.build((None, 4, 4, 2))
    return net


def test_a_new_network_outputs_zero_and_has_each_part():
    net = built(num_outputs=2, hidden_units=8, num_blocks=2)
    x = tf.random.stateless_normal([5, 4, 4, 2], seed=[1, 2])
    shift, raw = net(x)
    assert shift.shape == raw.shape == (5, 4, 4, 3)
    assert not np.any(shift) and not np.any(raw)  # a new coupling is the identity
    names = {v.path.split("/")[1] for v in net.trainable_variables}
    assert {"conv_in", "block0_gate", "block1_attention", "block1_attention_norm"} <= names
    single = built(num_outputs=1, hidden_units=8, attention=False)
    assert single(x).shape == (5, 4, 4, 3)
    assert not any("attention" in v.path for v in single.trainable_variables)


@pytest.mark.parametrize("conditional_shape", [(4, 4, 3), (3,)])
def test_the_conditional_input_reaches_the_outputs(conditional_shape):
    net = randomize(built(conditional_shape, num_outputs=1, hidden_units=8, num_blocks=1))
    x = tf.random.stateless_normal([2, 4, 4, 2], seed=[3, 4])
    c = tf.random.stateless_normal([2, *conditional_shape], seed=[5, 6])
    out = net(x, conditional_input=c)
    assert out.shape == (2, 4, 4, 3)
    assert np.max(np.abs(out - net(x, conditional_input=c + 1.0))) > 1e-4
    # Extra batch axes fold into one, as the convolutional conditioner's.
    stacked = net(tf.stack([x, x]), conditional_input=tf.stack([c, c]))
    np.testing.assert_allclose(stacked[1], out, atol=1e-6)


def test_attention_sees_every_position():
    """A change at one pixel moves the outputs far from it (a 3x3 conv stack would not)."""
    net = layers.GatedConditioner(3, num_outputs=1, hidden_units=8, num_blocks=1)
    net.build((None, 8, 8, 2))
    randomize(net, scale=0.3)
    x = np.zeros((1, 8, 8, 2), np.float32)
    far = x.copy()
    far[0, 0, 0, 0] = 3.0
    difference = np.abs(net(far) - net(x))[0, 7, 7]
    assert np.max(difference) > 1e-5


def test_config_round_trip_and_bad_arguments():
    net = built((3,), num_outputs=2, hidden_units=8, num_blocks=3, num_heads=2, dropout=0.1)
    clone = layers.GatedConditioner.from_config(net.get_config())
    assert clone.get_config() == net.get_config()
    with pytest.raises(ValueError, match="num_heads=3 must divide hidden_units=8"):
        layers.GatedConditioner(3, hidden_units=8, num_heads=3)
    with pytest.raises(ValueError, match="num_blocks and hidden_units must be >= 1"):
        layers.GatedConditioner(3, hidden_units=8, num_blocks=0)
    with pytest.raises(ValueError, match="network must be one of"):
        layers.Coupling(network="gatd")
    assert built(hidden_units=8)(tf.zeros([1, 4, 4, 2]))[0].shape == (1, 4, 4, 3)


@pytest.mark.parametrize("name", ["glow", "vflow"])
def test_models_train_save_and_reload_with_gated_networks(name, tmp_path):
    images = digits_arrays("train")[0][:64]
    keras.utils.set_random_seed(0)
    config = dict(num_steps=1, hidden_units=8, coupling_network="gated", coupling_blocks=1)
    if name == "vflow":
        config.update(posterior_steps=1, posterior_hidden_units=8)
    model = models.get(name, (8, 8, 1), **config)
    assert model.get_config()["coupling_network"] == "gated"
    model.initialize(images[:32])
    model.compile(model.make_optimizer(3e-3), jit_compile=True)
    batches = tf.data.Dataset.from_tensor_slices(images).batch(16)
    before = model.evaluate(batches, verbose=0, return_dict=True)["loss"]
    model.fit(batches, epochs=3, verbose=0)
    assert model.evaluate(batches, verbose=0, return_dict=True)["loss"] < before
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        reloaded.log_prob(images[:4], seed=1), model.log_prob(images[:4], seed=1), rtol=1e-5
    )
