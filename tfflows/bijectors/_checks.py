"""The checks behind the bijectors' `validate_args`: static when possible, asserts otherwise.

As in TFP's bijectors, `validate_args=False` (the default) adds nothing to the
graph. With `validate_args=True` a check whose operands are static (shapes known
when tracing) raises `ValueError` at once; one that needs run-time values (an
unknown batch or side, a parameter's values) becomes a `tf.debugging.Assert`
that fails with `InvalidArgumentError` (in eager mode, at once as well). Every
message starts with the bijector's name and says which argument is wrong.
"""

import tensorflow as tf

__all__ = ["assert_all", "check_broadcasts_to", "check_shape", "with_dependencies"]


def with_dependencies(tensor, assertions):
    """`tensor`, computed after `assertions` (itself when there are none)."""
    assertions = [a for a in assertions if a is not None]
    if not assertions:
        return tensor
    with tf.control_dependencies(assertions):
        return tf.identity(tensor)


def assert_all(condition, message, *data):
    """An assertion that every element of the boolean `condition` holds."""
    return tf.debugging.Assert(tf.reduce_all(condition), [message, *data], summarize=16)


def _same_shape(a, b):
    # Equal lengths and entries; comparing [a, b] with [b, a] is valid for any lengths.
    same_entries = tf.reduce_all(tf.equal(tf.concat([a, b], 0), tf.concat([b, a], 0)))
    return tf.logical_and(tf.equal(tf.size(a), tf.size(b)), same_entries)


def check_shape(tensor, expected, expected_tensor, message):
    """Assertions (possibly none) that `tensor`'s shape is `expected`.

    Args:
      tensor: the tensor to check.
      expected: its expected static shape (a `tf.TensorShape`, `None` for unknown axes).
      expected_tensor: callable returning the expected shape as an int32 tensor,
        called only when the static shapes cannot decide.
      message: what is wrong, naming the culprit.

    Raises:
      ValueError: when the static shapes already disagree.
    """
    shape, expected = tensor.shape, tf.TensorShape(expected)
    if shape.rank is not None and expected.rank is not None:
        if shape.rank != expected.rank:
            raise ValueError(f"{message}: rank {shape.rank}, expected {expected.rank}.")
        for axis, (got, want) in enumerate(zip(shape, expected)):
            if got is not None and want is not None and got != want:
                where = "the last axis" if axis == shape.rank - 1 else f"the leading axes ({axis})"
                raise ValueError(f"{message} on {where}: {shape}, expected {expected}.")
        if shape.is_fully_defined() and expected.is_fully_defined():
            return []
    actual = tf.shape(tensor)
    return [assert_all(_same_shape(actual, expected_tensor()), message, actual)]


def check_broadcasts_to(tensor, target, message):
    """Assertions that `tensor` broadcasts to `target`'s shape without changing it.

    Raises:
      ValueError: when the static shapes already say it does not.
    """
    shape, target_shape = tensor.shape, target.shape
    if shape.rank is None or target_shape.rank is None:
        raise ValueError(f"{message}: needs known ranks, got {shape} and {target_shape}.")
    if shape.rank > target_shape.rank:
        raise ValueError(f"{message}: {shape} has more axes than {target_shape}.")
    tail = target_shape[target_shape.rank - shape.rank :]
    for got, want in zip(shape, tail):
        if got is not None and want is not None and got not in (1, want):
            raise ValueError(f"{message}: {shape} does not broadcast to {target_shape}.")
    if all(d is not None for d in list(shape) + list(tail)):
        return []
    actual, wanted = tf.shape(tensor), tf.shape(target)[target_shape.rank - shape.rank :]
    return [assert_all((actual == 1) | (actual == wanted), message, actual, tf.shape(target))]
