"""Flows under tf.distribute, in SavedModels with an unknown batch size, and in .keras files."""

import numpy as np
import pytest
import tensorflow as tf

from tfflows import layers


def make_flow():
    return layers.MultiScaleFlow((4, 4, 2), num_levels=2, num_steps=2, hidden_units=8, seed=3)


def images(batch=4, seed=0):
    return tf.random.stateless_uniform([batch, 4, 4, 2], seed=[seed, 7]) - 0.5


def loss_and_grads(flow, x, global_batch):
    with tf.GradientTape() as tape:
        loss = -tf.reduce_sum(flow.log_prob(x)) / global_batch
    return loss, tape.gradient(loss, flow.trainable_variables)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_mirrored_strategy_matches_one_device(jit_compile, mirrored_strategy):
    x = images()
    reference = make_flow()
    strategy = mirrored_strategy
    with strategy.scope():
        flow = make_flow()
    flow.set_weights(reference.get_weights())  # same conv kernels, before the init
    # Data-dependent init under the strategy: eager, cross-replica, one batch.
    flow.initialize(x)
    reference.initialize(x)
    for variable in flow.weights:
        values = [v.numpy() for v in variable.value.values]  # the MirroredVariable
        np.testing.assert_array_equal(values[0], values[1])
    for mine, theirs in zip(flow.weights, reference.weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)

    # XLA compiles the loss and gradients per replica; Keras' own jit_compile
    # fails under MirroredStrategy (see tf-stack-facts).
    compute = tf.function(lambda v: loss_and_grads(flow, v, 4), jit_compile=jit_compile)
    halves = [x[:2], x[2:]]
    distributed = strategy.experimental_distribute_values_from_function(
        lambda ctx: halves[ctx.replica_id_in_sync_group]
    )

    @tf.function
    def step(per_replica):
        # A Python function around the compiled one: handing a jit-compiled
        # tf.function straight to strategy.run places every replica's XLA
        # cluster on the first device ("resource ... located in device CPU:1").
        loss, grads = strategy.run(lambda v: compute(v), args=(per_replica,))
        reduce = lambda t: strategy.reduce(tf.distribute.ReduceOp.SUM, t, axis=None)  # noqa: E731
        return reduce(loss), [reduce(g) for g in grads]

    loss, grads = step(distributed)
    ref_loss, ref_grads = loss_and_grads(reference, x, 4)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-4)
    # The gradients are O(1-10); some are sums that cancel to ~0 (actnorm's
    # loc right after its data-dependent init), and there XLA's CPU kernels
    # (on AMX/AVX-512-FP16 Xeons) leave float32 round-off of ~2e-5 where the
    # default kernels leave ~1e-6: so the absolute tolerance is relative to
    # the largest gradient. A wrong reduction would be off by O(1).
    scale = max(float(np.abs(ref).max()) for ref in ref_grads)
    assert scale > 1.0
    for g, ref in zip(grads, ref_grads):
        np.testing.assert_allclose(g, ref, rtol=1e-3, atol=1e-5 * scale)


class FlowModule(tf.Module):
    def __init__(self, flow):
        super().__init__()
        self.flow = flow

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 4, 2], tf.float32)])
    def log_prob(self, x):
        return {"log_prob": self.flow.log_prob(x)}

    @tf.function(
        input_signature=[
            tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.float32),
            tf.TensorSpec([], tf.int64),
        ]
    )
    def sample(self, num_samples, temperature, seed):
        return {"images": self.flow.sample(num_samples, temperature, seed)}


def test_saved_model_with_unknown_batch_size(tmp_path):
    flow = make_flow()
    flow.initialize(images(8, seed=1))
    module = FlowModule(flow)
    tf.saved_model.save(
        module, str(tmp_path), signatures={"log_prob": module.log_prob, "sample": module.sample}
    )
    loaded = tf.saved_model.load(str(tmp_path))
    for batch in (1, 5):
        x = images(batch, seed=batch)
        np.testing.assert_allclose(
            loaded.signatures["log_prob"](x)["log_prob"], flow.log_prob(x), rtol=1e-5
        )
    served = loaded.signatures["sample"](
        num_samples=tf.constant(3), temperature=tf.constant(0.8), seed=tf.constant(11, tf.int64)
    )
    np.testing.assert_allclose(served["images"], flow.sample(3, 0.8, seed=11), atol=1e-5)


def test_keras_file_round_trip(tmp_path):
    import keras

    flow = make_flow()
    flow.initialize(images(8, seed=2))
    for variable in flow.trainable_variables:  # non-identity couplings too
        variable.assign_add(0.05 * tf.random.stateless_normal(variable.shape, seed=[1, 1]))
    model = keras.Sequential([keras.Input((4, 4, 2)), flow])
    path = tmp_path / "flow.keras"
    model.save(path)
    restored = keras.models.load_model(path).layers[0]
    assert isinstance(restored, layers.MultiScaleFlow)
    x = images()
    np.testing.assert_array_equal(restored.log_prob(x), flow.log_prob(x))
    np.testing.assert_array_equal(restored.sample(2, seed=5), flow.sample(2, seed=5))
