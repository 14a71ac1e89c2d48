"""`models.gaussian` against the closed forms: float64, XLA and the caller's dtype."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfflows.models.gaussian import (
    gaussian_log_prob,
    kl_to_standard_normal,
    standard_normal_log_prob,
)


def _closed_forms(x, mean, log_scale):
    z = (x - mean) * np.exp(-log_scale)
    log_prob = np.sum(-0.5 * z**2 - log_scale - 0.5 * math.log(2 * math.pi), axis=-1)
    standard = np.sum(-0.5 * x**2 - 0.5 * math.log(2 * math.pi), axis=-1)
    kl = np.sum(0.5 * mean**2 + 0.5 * np.expm1(2 * log_scale) - log_scale, axis=-1)
    return log_prob, standard, kl


@pytest.mark.parametrize("jit_compile", [False, True])
def test_equal_the_closed_forms_in_float64(jit_compile):
    rng = np.random.default_rng(0)
    x, mean = rng.normal(size=(2, 5, 6)), rng.normal(size=(2, 5, 6))
    log_scale = np.concatenate([rng.normal(size=(2, 5, 3)), np.full((2, 5, 3), 1e-4)], -1)

    @tf.function(jit_compile=jit_compile)
    def terms(x, mean, log_scale):
        return (
            gaussian_log_prob(x, mean, log_scale, 1),
            standard_normal_log_prob(x, 2),
            kl_to_standard_normal(mean, log_scale),
        )

    got = terms(*(tf.constant(v, tf.float64) for v in (x, mean, log_scale)))
    log_prob, standard, kl = _closed_forms(x, mean, log_scale)
    np.testing.assert_allclose(got[0], log_prob, rtol=1e-13)
    np.testing.assert_allclose(got[1], standard.sum(-1), rtol=1e-13)
    np.testing.assert_allclose(got[2], kl, rtol=1e-12)


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_keep_the_callers_dtype(dtype):
    x = tf.ones([2, 3], dtype)
    assert standard_normal_log_prob(x, 1).dtype == dtype
    assert kl_to_standard_normal(x, tf.zeros([2, 3], tf.float32)).dtype == dtype
    assert gaussian_log_prob(x, x, tf.constant(0.5), 1).dtype == dtype
