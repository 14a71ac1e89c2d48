"""Which kernels to pick: some layers take a faster path on CPUs than TF's own op."""

import functools

import tensorflow as tf


@functools.cache
def has_gpu():
    """Whether TF sees a GPU (cached: the device list does not change in a process)."""
    return bool(tf.config.list_physical_devices("GPU"))
