"""Batch normalization with the batch's own statistics, without training it."""

import functools

import keras
from keras import ops

__all__ = ["batch_statistics"]


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
        layers = layers if isinstance(layers, (list, tuple)) else [layers]
        self._norms = [
            sub
            for layer in layers
            for sub in layer._flatten_layers()
            if isinstance(sub, keras.layers.BatchNormalization)
        ]

    def __enter__(self):
        for norm in self._norms:
            # An instance attribute shadows the class's `call` for this layer only.
            norm.call = functools.partial(_normalize_with_batch_statistics, norm)
        return self

    def __exit__(self, *exc_info):
        for norm in self._norms:
            del norm.call
