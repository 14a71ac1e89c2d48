"""Every private Keras and TFP API tfflows relies on, in one place, each with why.

Nothing else in tfflows imports `tensorflow_probability.python.internal`,
calls a Keras method or reads a Keras attribute whose name starts with an
underscore, or overrides one. When Keras or TFP change these, this module and
the tests that exercise each use (named below) are what to look at.
"""

from tensorflow_probability.python.internal import cache_util, dtype_util
from tensorflow_probability.python.internal import prefer_static as _prefer_static

__all__ = [
    "BijectorCacheWithGreedyAttrs",
    "NoSymbolicBuildFromData",
    "adam_moments",
    "common_dtype",
    "moving_averages",
    "prefer_static",
    "sublayers",
]

#: TFP's bijector cache that stores attributes (the log-det) next to a result,
#: the mechanism `tfb.FFJORD` uses; no public API lets a bijector compute its
#: transform and log-det in one pass and have `forward_log_det_jacobian` reuse
#: it. Used by `bijectors.OnePassBijector` (tests: test_bijectors' cache tests).
BijectorCacheWithGreedyAttrs = cache_util.BijectorCacheWithGreedyAttrs

#: TFP's rule for a bijector's dtype from several parameters (what TFP's own
#: bijectors call), so ours accept the same mixes of Python floats and tensors.
common_dtype = dtype_util.common_dtype

#: Shape arithmetic that stays static (NumPy) when shapes are known and
#: becomes tensors otherwise: what keeps squeezed event shapes static for
#: Keras while an unknown batch still traces (the SavedModel's dynamic batch).
prefer_static = _prefer_static


def sublayers(layer):
    """`layer` and every layer inside it, recursively (Keras' `_flatten_layers`).

    Keras 3 has no public recursive walk over a layer's sub-layers (`Model.layers`
    lists the top level only, and Keras 3 layers are not `tf.Module`s).
    """
    return list(layer._flatten_layers())


def adam_moments(optimizer, variable):
    """`(m, v)`: a Keras 3 `Adam`'s first and second moment variables of `variable`.

    Keras keeps them in private lists indexed by the variable's position; an
    `Adam` subclass that updates them itself (`optimizers.FusedAdam`,
    `SplitAdam`) has no public way to reach them.
    """
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]


def moving_averages(optimizer, variables):
    """The optimizer's moving average (`use_ema=True`) of each of `variables`, in order.

    Keras 3 keeps the averages in a private list, in the order of the variables
    the optimizer was built with, and exposes them only by overwriting the
    model's weights for good (`finalize_variable_values`).
    """
    averages = optimizer._model_variables_moving_average
    return [averages[optimizer._get_variable_index(variable)] for variable in variables]


class NoSymbolicBuildFromData:
    """Mixin for a `keras.Model` whose weights all exist at construction.

    Before `fit`, Keras 3 builds a model symbolically from a data batch that it
    first averages over the replicas; under `MultiWorkerMirroredStrategy` that
    average is a collective, and there are no uint8 collectives. A model built
    at construction needs only its optimizer built: this override of the
    private `Trainer._maybe_symbolic_build` does that and nothing with the data
    (tests: test_trainers.test_multi_worker_training_ends_with_identical_workers).
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=())
