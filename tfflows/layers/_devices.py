"""The one place where layers choose a formulation by the machine they run on.

Some TF ops are slow on CPUs for the shapes flows use: the kernel gradient of a
convolution to few output channels (`ConvConditioner`'s last layer) and oneDNN's
transposed convolution (`ShiftedConv2DTranspose`). Those layers then trace an
equal computation written as one matmul and shifted sums, which pays off in the
backward pass of CPU training. The choice is made at trace time, so it is baked
into whatever graph is traced: a graph meant for another machine (a SavedModel
exported for serving, possibly on GPUs) must be traced inside `portable()`, where
every layer uses TF's own op (`tf.nn.conv2d`, `tf.nn.conv2d_transpose`), whose
kernels suit every device. `tfflows.export.export_saved_model` does so.
"""

import contextlib
import contextvars
import functools

import tensorflow as tf

__all__ = ["has_gpu", "portable", "use_cpu_formulations"]

_PORTABLE = contextvars.ContextVar("tfflows_portable", default=False)


@functools.cache
def has_gpu():
    """Whether TF sees a GPU (cached: the device list does not change in a process)."""
    return bool(tf.config.list_physical_devices("GPU"))


@contextlib.contextmanager
def portable():
    """Within it, layers trace TF's own ops whatever the host (for exported graphs).

    Only tracing is affected: a `tf.function` traced before keeps its graph.
    """
    token = _PORTABLE.set(True)
    try:
        yield
    finally:
        _PORTABLE.reset(token)


def use_cpu_formulations():
    """Whether a layer traced now may use its CPU formulation: no GPU, not `portable()`."""
    return not _PORTABLE.get() and not has_gpu()
