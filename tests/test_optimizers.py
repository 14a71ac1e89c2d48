"""FusedAdam and SplitAdam against the update rules they claim (Keras' Adam, PyTorch's Adam)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfflows.optimizers import FusedAdam, SplitAdam

GRADIENTS = [
    np.array([[0.3, -0.1, 2.0], [1e-4, 0.0, -5.0]]),
    np.array([[-0.2, 0.4, 1.0], [3.0, -1e-3, 0.5]]),
    np.array([[0.1, 0.1, -0.7], [-2.0, 0.2, 0.0]]),
]


def run(optimizer, dtype, compiled=False, steps=3):
    variable = keras.Variable(np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype))
    optimizer.build([variable])

    def step(gradient):
        optimizer.apply([gradient], [variable])

    step = tf.function(step) if compiled else step
    for gradient in GRADIENTS[:steps]:
        step(tf.constant(gradient, dtype))
    return variable.numpy()


def numpy_adam(learning_rate, beta_1, beta_2, epsilon, steps=3):
    """The update rule FusedAdam documents, in float64 NumPy."""
    theta = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    m = v = 0.0
    for t, g in enumerate(GRADIENTS[:steps], start=1):
        m = m + (1 - beta_1) * (g - m)
        v = v + (1 - beta_2) * (g**2 - v)
        alpha = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        theta = theta - alpha * m / (np.sqrt(v) + epsilon)
    return theta


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "function"])
def test_fused_adam_follows_adam_exactly_in_float64(compiled):
    # The learning rate is a float32 variable in Keras: 0.125 is exact there.
    kwargs = dict(learning_rate=0.125, beta_1=0.8, beta_2=0.95, epsilon=1e-3)
    got = run(FusedAdam(**kwargs), "float64", compiled)
    np.testing.assert_allclose(got, numpy_adam(**kwargs), rtol=1e-14)
    # Keras' own Adam rounds its betas to float32 in float64 training.
    np.testing.assert_allclose(got, run(keras.optimizers.Adam(**kwargs), "float64"), rtol=1e-6)
    assert not np.allclose(got, run(FusedAdam(**{**kwargs, "epsilon": 1e-7}), "float64"))


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "function"])
def test_fused_adam_equals_keras_adam_in_float32(compiled):
    kwargs = dict(learning_rate=0.1, beta_1=0.8, beta_2=0.95, epsilon=1e-3)
    expected = run(keras.optimizers.Adam(**kwargs), "float32", compiled)
    np.testing.assert_allclose(run(FusedAdam(**kwargs), "float32", compiled), expected, rtol=1e-5)


def test_fused_adam_takes_the_fused_kernel():
    optimizer = FusedAdam(0.1)
    variable = keras.Variable(np.ones(3, np.float32))
    optimizer.build([variable])
    step = tf.function(lambda g: optimizer.apply([g], [variable]))
    graph_def = step.get_concrete_function(tf.TensorSpec([3], tf.float32)).graph.as_graph_def()
    nodes = [*graph_def.node, *(n for f in graph_def.library.function for n in f.node_def)]
    assert "ResourceApplyAdam" in {node.op for node in nodes}


def test_fused_adam_falls_back_for_amsgrad_and_sparse_gradients():
    kwargs = dict(learning_rate=0.1, amsgrad=True)
    np.testing.assert_allclose(
        run(FusedAdam(**kwargs), "float32"), run(keras.optimizers.Adam(**kwargs), "float32")
    )
    fused, plain = FusedAdam(0.1), keras.optimizers.Adam(0.1)
    results = []
    for optimizer in (fused, plain):
        variable = keras.Variable(np.ones((4, 2), np.float32))
        optimizer.build([variable])
        sparse = tf.IndexedSlices(tf.constant([[1.0, -1.0]]), tf.constant([2]), tf.constant([4, 2]))
        optimizer.apply([sparse], [variable])
        results.append(variable.numpy())
    np.testing.assert_allclose(results[0], results[1])


def test_fused_adam_config_round_trip():
    optimizer = FusedAdam(0.01, beta_1=0.5, epsilon=1e-4, clipnorm=1.0)
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(clone) is FusedAdam
    assert (clone.beta_1, clone.epsilon, clone.clipnorm) == (0.5, 1e-4, 1.0)


def test_fused_adam_under_mirrored_strategy_equals_one_device(mirrored_strategy):
    kwargs = dict(learning_rate=0.1, beta_1=0.8, epsilon=1e-3)
    expected = run(keras.optimizers.Adam(**kwargs), "float32", compiled=True)
    with mirrored_strategy.scope():
        variable = keras.Variable(np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], np.float32))
        optimizer = FusedAdam(**kwargs)
        optimizer.build([variable])

    @tf.function
    def step(gradient):
        def replica_fn():
            # Each replica holds half the gradient: the all-reduced sum is the whole.
            optimizer.apply([gradient / 2.0], [variable])

        mirrored_strategy.run(replica_fn)

    for gradient in GRADIENTS:
        step(tf.constant(gradient, tf.float32))
    replicas = [v.numpy() for v in variable.value.values]
    np.testing.assert_allclose(replicas[0], replicas[1])
    np.testing.assert_allclose(replicas[0], expected, rtol=1e-5)


def test_split_adam_gives_the_flow_coupled_l2_and_its_own_betas():
    ae, flow = tf.Variable([1.0, -2.0]), tf.Variable([0.5, -3.0])
    ae_k, flow_k = keras.Variable(ae.numpy()), keras.Variable(flow.numpy())
    optimizer = SplitAdam(0.1, group_beta_1=0.8, group_beta_2=0.9, group_epsilon=1e-6, group_l2=0.5)
    optimizer.set_group([flow_k])
    grads = [np.array([0.3, 0.1], np.float32), np.array([-0.2, 0.4], np.float32)]
    m = v = 0.0
    theta = flow.numpy()
    for step in (1, 2):
        optimizer.apply([tf.constant(grads[0]), tf.constant(grads[1])], [ae_k, flow_k])
        g = grads[1] + 0.5 * theta  # PyTorch's Adam(weight_decay=0.5, betas=(0.8, 0.9))
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g**2
        theta = theta - 0.1 / (1 - 0.8**step) * m / (np.sqrt(v / (1 - 0.9**step)) + 1e-6)
    np.testing.assert_allclose(flow_k.numpy(), theta, rtol=1e-5)
    plain = keras.optimizers.Adam(0.1, epsilon=1e-8)
    for _ in range(2):
        plain.apply([tf.constant(grads[0])], [ae])
    # No decay, default betas; float32 constants (1 - 0.999 in float32) differ from Keras'.
    np.testing.assert_allclose(ae_k.numpy(), ae.numpy(), rtol=1e-5)


def test_split_adam_group_on_the_unfused_path_agrees_with_the_fused_one():
    kwargs = dict(group_beta_1=0.8, group_beta_2=0.9, group_epsilon=1e-3, group_l2=0.5)
    results = []
    for amsgrad in (False, True):
        optimizer = SplitAdam(0.1, amsgrad=amsgrad, **kwargs)
        variable = keras.Variable(np.array([0.5, -3.0, 1e-3], np.float64))
        optimizer.set_group([variable])
        for gradient in ([-0.2, 0.4, 1.0], [0.3, 0.0, -2.0]):
            optimizer.apply([tf.constant(gradient, tf.float64)], [variable])
        results.append(variable.numpy())
    # AMSGrad only changes ungrouped variables: the group takes the unfused formula.
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True], ids=["fused", "unfused"])
def test_split_adam_group_learning_rate_scale_multiplies_the_groups_rate(amsgrad):
    results = []
    for learning_rate, scale in ((0.1, 0.25), (0.025, 1.0)):
        optimizer = SplitAdam(learning_rate, amsgrad=amsgrad, group_learning_rate_scale=scale)
        grouped, other = keras.Variable([0.5, -3.0]), keras.Variable([0.5, -3.0])
        optimizer.set_group([grouped])
        for gradient in ([-0.2, 0.4], [0.3, -2.0]):
            optimizer.apply([tf.constant(gradient)] * 2, [grouped, other])
        results.append((grouped.numpy(), other.numpy()))
    (grouped, other), (grouped_ref, other_ref) = results
    np.testing.assert_allclose(grouped, grouped_ref, rtol=1e-6)  # 0.1 x 0.25 = 0.025
    assert not np.allclose(other, other_ref)  # the others keep their own rate
    config = SplitAdam(0.1, group_learning_rate_scale=0.25).get_config()
    assert SplitAdam.from_config(config).group_learning_rate_scale == 0.25


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_split_adam_rejects_a_non_positive_group_learning_rate_scale(scale):
    with pytest.raises(ValueError, match="group_learning_rate_scale"):
        SplitAdam(0.1, group_learning_rate_scale=scale)
    assert SplitAdam(0.1, group_learning_rate_scale=0.5).group_learning_rate_scale == 0.5
