"""Smoke tests of benchmarks/glf_mnist.py: sampling protocols, train, save, re-evaluate."""

import numpy as np
import pytest

from benchmarks import glf_mnist
from tfflows import models


@pytest.fixture(scope="module")
def glf():
    model = models.get("glf", (28, 28, 1), latent_dim=4, flow_blocks=1, flow_hidden_units=8)
    model(np.zeros((2, 28, 28, 1), np.float32))
    return model


@pytest.mark.parametrize("protocol", sorted(glf_mnist.PROTOCOLS))
def test_samples_follow_the_protocol(glf, protocol):
    _, minmax = glf_mnist.PROTOCOLS[protocol]
    images = glf_mnist.samples_uint8(glf, 10, 1.0, protocol, batch_size=4, seed=3)
    assert images.shape == (10, 28, 28, 1) and images.dtype == np.uint8
    again = glf_mnist.samples_uint8(glf, 10, 1.0, protocol, batch_size=4, seed=3)
    np.testing.assert_array_equal(images, again)
    stretched = (images.min(axis=(1, 2, 3)) == 0) & (images.max(axis=(1, 2, 3)) == 255)
    # A new decoder's sigmoid outputs sit near 0.5: only the stretch spans 0..255.
    assert stretched.all() == minmax
    plain = glf_mnist.samples_uint8(glf, 10, 1.0, "standard", batch_size=4, seed=3)
    assert np.array_equal(images, plain) == (protocol == "standard")


def test_train_then_reevaluate_the_saved_weights(shared_data_dir, inception_weights, tmp_path):
    common = [
        f"--data_dir={shared_data_dir / 'mnist'}",
        "--num_fid_samples=12",
        "--num_fid_real=12",
        "--num_mse_images=100",
        "--fid_batch_size=12",
        "--fid_method=eigh",  # sqrtm of these singular 2048-d matrices: 30 s each
        "--sample_batch_size=6",
        "--protocols=standard,reference",
        "--lr_halve_after",
        "1",
        "2",
    ]
    trained = glf_mnist.main([*common, "--minutes=0.001", f"--output={tmp_path / 'train.json'}"])
    assert trained["steps"] >= 1 and trained["lr_halve_after"] == [1, 2]
    assert set(trained["fid_by_protocol"]) == {"standard", "reference"}
    assert trained["fid"] == trained["fid_by_protocol"]["standard"] > 0
    assert 0 < trained["test_reconstruction_mse_per_pixel"] < 0.5

    evaluated = glf_mnist.main(
        [*common, "--weights", trained["weights"], f"--output={tmp_path / 'eval.json'}"]
    )
    (again,) = evaluated["evaluations"]
    assert again["test_reconstruction_mse_per_pixel"] == pytest.approx(
        trained["test_reconstruction_mse_per_pixel"], rel=1e-5
    )
    for protocol, fid in trained["fid_by_protocol"].items():
        assert again["fid_by_protocol"][protocol] == pytest.approx(fid, rel=1e-3)


def test_decoder_logit_scale_reaches_the_model():
    args = glf_mnist.parse_args(["--data_dir=unused", "--latent_dim=4", "--decoder_logit_scale=2"])
    assert glf_mnist.build(args).decoder_logit_scale == 2.0
    assert glf_mnist.build(glf_mnist.parse_args(["--data_dir=unused"])).decoder_logit_scale == 1.0
