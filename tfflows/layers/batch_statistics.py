"""Batch normalization with the batch's own statistics: read-only, or recomputed for good."""

import functools

import keras
from keras import ops

from tfflows._internals import sublayers

__all__ = ["batch_norms", "batch_statistics", "recalibrate_batch_norm"]


def batch_norms(layers):
    """Every `keras.layers.BatchNormalization` inside `layers` (a layer or a list of them)."""
    layers = layers if isinstance(layers, (list, tuple)) else [layers]
    return [
        sub
        for layer in layers
        for sub in sublayers(layer)
        if isinstance(sub, keras.layers.BatchNormalization)
    ]


def recalibrate_batch_norm(model, batches):
    """Recomputes `model`'s batch norms' moving statistics from `batches`; returns their count.

    Each batch goes through `model(batch, training=True)`, eagerly, with
    every batch norm's momentum set to `1 - 1/k` at the `k`-th batch, so that
    the moving mean and variance end as the plain averages over the batches
    of the batch means and variances (PyTorch's `momentum=None`, SWA's
    `update_bn`). Needed after the weights change without training, e.g.
    for an optimizer's moving average of the weights: the statistics were
    those of the trained weights' activations. Nothing else changes: the
    model runs no optimizer (mind other training-mode state of one's own,
    e.g. dropout draws or actnorm's data-dependent start). A model without
    batch norms is left alone.
    """
    norms = batch_norms(model)
    if not norms:
        return 0
    momenta = [norm.momentum for norm in norms]
    count = 0
    try:
        for count, batch in enumerate(batches, start=1):
            for norm in norms:
                norm.momentum = 1.0 - 1.0 / count
            model(batch, training=True)
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
    return count


def _normalize_with_batch_statistics(layer, inputs, training=None, mask=None):
    # Keras' BatchNormalization.call in training mode, minus the update of the
    # moving averages (and without renorm or masks, which tfflows never uses).
    del training
    if mask is not None or layer.renorm:
        raise NotImplementedError("batch_statistics supports unmasked batch norm without renorm.")
    dtype = keras.backend.result_type(inputs.dtype, "float32")
    x = ops.cast(inputs, dtype)
    axes = [i for i in range(len(x.shape)) if i != layer.axis % len(x.shape)]
    mean, variance = ops.moments(x, axes=axes, synchronized=layer.synchronized)
    outputs = ops.batch_normalization(
        x,
        mean,
        variance,
        axis=layer.axis,
        offset=ops.cast(layer.beta, dtype) if layer.center else None,
        scale=ops.cast(layer.gamma, dtype) if layer.scale else None,
        epsilon=layer.epsilon,
    )
    return ops.cast(outputs, layer.compute_dtype)


class batch_statistics:  # noqa: N801 (a context manager, named like one)
    """Within it, the batch norms inside `layers` use each batch's statistics, read-only.

    Every `keras.layers.BatchNormalization` inside `layers` normalizes with
    the mean and (biased) variance of the batch it is given, whatever its
    `training` argument, and leaves its moving averages unchanged:

      y = gamma * (x - mean_batch(x)) / sqrt(var_batch(x) + eps) + beta

    This is PyTorch's `module.train()` at sampling time without the side
    effect on the running statistics. GLF's reference code samples this way
    (generate_sample.py: `modAE.train(); modFlow.train()` around the decoder
    and the flow's inverse, batches of 500), so its FIDs are of batch-norm
    statistics taken over each batch of samples; `benchmarks/glf_mnist.py`
    measures both ways. The result then depends on the batch: samples are
    reproducible for a given seed *and* batch size.

    Tracing happens at call time: a `tf.function` traced inside the context
    keeps batch statistics, one traced outside keeps the moving averages. Other
    callers of the same layers (other threads) see the mode while it is on.

    Usage:
      with batch_statistics([model.decoder, model.flow]):
          images = model.decode(model.flow.sample(500, seed=1))
    """

    def __init__(self, layers):
        self._norms = batch_norms(layers)

    def __enter__(self):
        for norm in self._norms:
            # An instance attribute shadows the class's `call` for this layer only.
            norm.call = functools.partial(_normalize_with_batch_statistics, norm)
        return self

    def __exit__(self, *exc_info):
        for norm in self._norms:
            del norm.call
