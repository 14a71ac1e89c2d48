"""Invertible 1x1 convolution with an LU parameterisation (Glow, section 3.2)."""

import tensorflow as tf

from tfflows._internals import common_dtype
from tfflows.bijectors import _checks
from tfflows.bijectors.base import FlowBijector

__all__ = ["InvertibleConv1x1"]


class InvertibleConv1x1(FlowBijector):
    """Glow's invertible 1x1 convolution, `W = P L (U + diag(sign * exp(log_scale)))`.

    Forward (latent to data), at every spatial position:  y = W x
    Inverse:                                              x = W^-1 y
    Log-det of the forward map for one channel vector:    sum(log_scale)

    `P` is a fixed permutation, `L` unit lower-triangular (the strictly lower
    part of `lower` is used), `U` strictly upper-triangular (the strictly upper
    part of `upper` is used). Glow (eq. 10) computes `log|det W|` as
    `sum(log|s|)`: no determinant or LU decomposition is evaluated, so the map
    and its inverse (two triangular solves) compile under XLA. Acting on the
    last axis (`forward_min_event_ndims == 1`), an image event `[H, W, C]`
    gets the log-det `H * W * sum(log_scale)` from TFP's event reduction.

    Args:
      permutation: int tensor `[C]`; row `i` of `P` is the unit vector
        `permutation[i]`, i.e. `(P v)[i] = v[permutation[i]]`.
      lower: float tensor `[C, C]`.
      upper: float tensor `[C, C]`.
      log_scale: float tensor `[C]`, `log|s|`.
      sign: float tensor `[C]` of +1/-1, the fixed signs of `s`; default +1.
      validate_args: check that `W` is invertible: the parameters' shapes agree,
        `permutation` is one of `0..C-1`, `sign` is +-1 and the diagonal of `U`,
        `sign * exp(log_scale)`, is nonzero and finite (`log_scale` neither under-
        nor overflowing), `lower` and `upper` are finite; and that inputs have `C`
        channels.
    """

    def __init__(
        self,
        permutation,
        lower,
        upper,
        log_scale,
        sign=None,
        validate_args=False,
        name="invertible_conv1x1",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = common_dtype([lower, upper, log_scale, sign], tf.float32)
            self._permutation = tf.convert_to_tensor(permutation, dtype_hint=tf.int32)
            self._lower = tf.convert_to_tensor(lower, dtype=dtype, name="lower")
            self._upper = tf.convert_to_tensor(upper, dtype=dtype, name="upper")
            self._log_scale = tf.convert_to_tensor(log_scale, dtype=dtype, name="log_scale")
            self._sign = (
                tf.ones_like(self._log_scale)
                if sign is None
                else tf.convert_to_tensor(sign, dtype=dtype, name="sign")
            )
            super().__init__(
                forward_min_event_ndims=1,
                is_constant_jacobian=True,
                validate_args=validate_args,
                dtype=dtype,
                parameters=parameters,
                name=name,
            )

    @property
    def permutation(self):
        return self._permutation

    @property
    def lower(self):
        return self._lower

    @property
    def upper(self):
        return self._upper

    @property
    def log_scale(self):
        return self._log_scale

    @property
    def sign(self):
        return self._sign

    def _parameter_control_dependencies(self, is_init):
        # The parameters are tensors read at construction: checked once, then.
        if not self.validate_args or not is_init:
            return []
        log_scale = self._log_scale
        channels = log_scale.shape[-1:]
        assertions = []
        for name, tensor, shape in [
            ("lower", self._lower, channels.concatenate(channels)),
            ("upper", self._upper, channels.concatenate(channels)),
            ("permutation", self._permutation, channels),
            ("sign", self._sign, channels),
        ]:
            rank = shape.rank

            def expected(rank=rank):
                return tf.tile(tf.shape(log_scale)[-1:], [rank])

            message = f"{self.name}: the shape of {name}, for log_scale {log_scale.shape}"
            assertions += _checks.check_shape(tensor, shape, expected, message)
        diagonal = self._sign * tf.exp(log_scale)
        count = tf.shape(self._permutation, out_type=self._permutation.dtype)[-1]
        identity = tf.range(count, dtype=self._permutation.dtype)
        return assertions + [
            _checks.assert_all(
                tf.sort(self._permutation) == identity,
                f"{self.name}: permutation must hold each of 0..C-1 once (else W is singular)",
                self._permutation,
            ),
            _checks.assert_all(tf.abs(self._sign) == 1, f"{self.name}: sign must be +1 or -1"),
            _checks.assert_all(
                (diagonal != 0) & tf.math.is_finite(diagonal),
                f"{self.name}: the diagonal of U, sign * exp(log_scale), must be nonzero and "
                "finite (else W is singular)",
                log_scale,
            ),
            _checks.assert_all(
                tf.math.is_finite(self._lower) & tf.math.is_finite(self._upper),
                f"{self.name}: lower and upper must be finite",
            ),
        ]

    def _checked(self, x):
        if not self.validate_args:
            return x
        expected = x.shape[:-1].concatenate(self._log_scale.shape[-1:])
        message = f"{self.name}: the input channels (last axis) must match the {expected[-1]} of W"
        assertions = _checks.check_shape(
            x,
            expected,
            lambda: tf.concat([tf.shape(x)[:-1], tf.shape(self._log_scale)[-1:]], 0),
            message,
        )
        return _checks.with_dependencies(x, assertions)

    def _triangular_factors(self):
        channels = tf.shape(self._log_scale)[-1]
        eye = tf.eye(channels, dtype=self._lower.dtype)
        unit_lower = tf.linalg.band_part(self._lower, -1, 0) * (1.0 - eye) + eye
        upper = tf.linalg.band_part(self._upper, 0, -1) * (1.0 - eye) + tf.linalg.diag(
            self._sign * tf.exp(self._log_scale)
        )
        return unit_lower, upper

    def matrix(self):
        """The `[C, C]` kernel `W`."""
        unit_lower, upper = self._triangular_factors()
        return tf.gather(tf.matmul(unit_lower, upper), self._permutation)

    def inverse_matrix(self):
        """`W^-1 = U^-1 L^-1 P^T`, by two triangular solves (XLA-friendly)."""
        unit_lower, upper = self._triangular_factors()
        channels = tf.shape(self._log_scale)[-1]
        p_transpose = tf.transpose(
            tf.gather(tf.eye(channels, dtype=upper.dtype), self._permutation)
        )
        l_inv_pt = tf.linalg.triangular_solve(unit_lower, p_transpose, lower=True)
        return tf.linalg.triangular_solve(upper, l_inv_pt, lower=False)

    @staticmethod
    def _apply(kernel, x):
        # A 1x1 convolution is a matmul over the flattened positions.
        shape = tf.shape(x)
        flat = tf.reshape(x, [-1, shape[-1]])
        return tf.reshape(tf.matmul(flat, kernel, transpose_b=True), shape)

    def _forward(self, x):
        return self._apply(self.matrix(), self._checked(x))

    def _inverse(self, y):
        return self._apply(self.inverse_matrix(), self._checked(y))

    def _forward_log_det_jacobian(self, x):
        return tf.reduce_sum(self._log_scale, axis=-1)
