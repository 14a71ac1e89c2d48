"""Tests of benchmarks/glf_evaluation.py: sampling protocols and draw seeds."""

import numpy as np
import pytest

from benchmarks import glf_evaluation
from tfflows import models


@pytest.fixture(scope="module")
def glf():
    model = models.get("glf", (28, 28, 1), latent_dim=4, flow_blocks=1, flow_hidden_units=8)
    model(np.zeros((2, 28, 28, 1), np.uint8))
    return model


@pytest.mark.parametrize("protocol", sorted(glf_evaluation.PROTOCOLS))
def test_samples_follow_the_protocol(glf, protocol):
    _, minmax = glf_evaluation.PROTOCOLS[protocol]
    images = glf_evaluation.samples_uint8(glf, 10, 1.0, protocol, batch_size=4, seed=3)
    assert images.shape == (10, 28, 28, 1) and images.dtype == np.uint8
    again = glf_evaluation.samples_uint8(glf, 10, 1.0, protocol, batch_size=4, seed=3)
    np.testing.assert_array_equal(images, again)
    stretched = (images.min(axis=(1, 2, 3)) == 0) & (images.max(axis=(1, 2, 3)) == 255)
    # A new decoder's sigmoid outputs sit near 0.5: only the stretch spans 0..255.
    assert stretched.all() == minmax
    plain = glf_evaluation.samples_uint8(glf, 10, 1.0, "standard", batch_size=4, seed=3)
    assert np.array_equal(images, plain) == (protocol == "standard")


def test_draw_seeds_keep_draw_zero_and_never_repeat():
    seeds = glf_evaluation.draw_seeds(3, 10)
    assert seeds[0] == 3 and len(set(seeds)) == 10
    # Runs of different --seed below the stride share no draw.
    assert not set(seeds) & set(glf_evaluation.draw_seeds(4, 10))
