"""Invertible 1x1 convolution layer with LU-parameterised weights (Glow, section 3.2)."""

import keras
import numpy as np
import scipy.linalg

from tfflows import bijectors
from tfflows.layers.flow import Flow

__all__ = ["InvertibleConv1x1"]


def _lu_of_identity(channels):
    """`P, L, U, sign(s), log|s|` of the identity: a 1x1 convolution that starts as a no-op."""
    eye = np.eye(channels)
    zeros = np.zeros(channels)
    return np.arange(channels, dtype=np.int32), eye, np.zeros_like(eye), zeros + 1.0, zeros


def _lu_of_random_rotation(channels, seed):
    """`P, L, U, sign(s), log|s|` of a random orthogonal matrix (Glow's init)."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((channels, channels)))
    p, lower, upper = scipy.linalg.lu(rotation)
    # scipy returns rotation = p @ lower @ upper; row i of p is e_{argmax p[i]}.
    permutation = np.argmax(p, axis=1).astype(np.int32)
    diag = np.diag(upper)
    return permutation, lower, np.triu(upper, 1), np.sign(diag), np.log(np.abs(diag))


@keras.saving.register_keras_serializable(package="tfflows")
class InvertibleConv1x1(Flow):
    """Glow's invertible 1x1 convolution, `W = P L (U + diag(sign * exp(log_scale)))`.

    The LU decomposition is computed once, in NumPy, from a random rotation at
    build time (so `log|det W| = 0` initially); afterwards only `L`, `U` and
    `log_scale` train and the log-det `H * W * sum(log_scale)` needs no
    determinant, so the layer compiles under XLA. `init="identity"` starts
    from `W = I` instead (P = L = I, U = 0), for a flow that must start as the
    identity map, such as the flow-decoder VAE's Glow layer trained on top of
    a fixed VAE.

    Args:
      event_ndims: rank of the events (3 for images, 1 for vectors).
      seed: seed of the random rotation; None draws one from NumPy's global RNG
        (seeded by `keras.utils.set_random_seed`).
      init: "rotation" (Glow) or "identity".
      validate_args: see `Flow`; checks that `W` is invertible.
    """

    def __init__(self, event_ndims=3, seed=None, init="rotation", **kwargs):
        super().__init__(**kwargs)
        if init not in ("rotation", "identity"):
            raise ValueError(f"init must be 'rotation' or 'identity', got {init!r}.")
        self.event_ndims = int(event_ndims)
        self.seed = seed
        self.init = init

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if self.init == "identity":
            permutation, lower, upper, sign, log_scale = _lu_of_identity(channels)
        else:
            # The global RNG on purpose: keras.utils.set_random_seed seeds it.
            seed = self.seed if self.seed is not None else np.random.randint(2**31 - 1)  # noqa: NPY002
            permutation, lower, upper, sign, log_scale = _lu_of_random_rotation(channels, seed)

        def constant(value):
            return lambda shape, dtype=None: keras.ops.cast(value, dtype)

        square = (channels, channels)
        self.permutation = self.add_weight(
            shape=(channels,),
            initializer=constant(permutation),
            dtype="int32",
            trainable=False,
            name="permutation",
        )
        self.lower = self.add_weight(shape=square, initializer=constant(lower), name="lower")
        self.upper = self.add_weight(shape=square, initializer=constant(upper), name="upper")
        self.log_scale = self.add_weight(
            shape=(channels,), initializer=constant(log_scale), name="log_scale"
        )
        self.sign = self.add_weight(
            shape=(channels,), initializer=constant(sign), trainable=False, name="sign"
        )

    def bijector(self, conditional_input=None):
        del conditional_input
        return bijectors.InvertibleConv1x1(
            self.permutation,
            self.lower,
            self.upper,
            self.log_scale,
            self.sign,
            validate_args=self.validate_args,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "event_ndims": self.event_ndims,
            "seed": self.seed,
            "init": self.init,
        }
