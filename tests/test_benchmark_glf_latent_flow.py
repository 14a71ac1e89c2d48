"""Smoke test of benchmarks/glf_latent_flow.py: refitted flows and the saved one, FID draws."""

import math

import numpy as np
import pytest

from benchmarks import glf_evaluation, glf_latent_flow, glf_mnist


def test_variants_are_scored_on_the_saved_glfs_draws(shared_data_dir, inception_weights, tmp_path):
    glf = glf_mnist.build(glf_mnist.parse_args(["--data_dir=unused"]))
    rng = np.random.default_rng(0)
    for variable in glf.flow.trainable_variables:  # a flow that is not the identity
        variable.assign(0.1 * rng.standard_normal(variable.shape).astype(np.float32))
    weights = str(tmp_path / "glf.weights.h5")
    glf.save_weights(weights)
    fid = [
        "--num_fid_samples=12",
        "--num_fid_real=12",
        "--fid_batch_size=12",
        "--fid_method=eigh",
        "--sample_batch_size=6",
        "--fid_draws=2",
    ]
    data_dir = f"--data_dir={shared_data_dir / 'mnist'}"
    result = glf_latent_flow.main(
        [
            data_dir,
            f"--weights={weights}",
            "--variants=joint,freia",
            "--epochs=2",
            "--lr_halve_after",
            "1",
            "--num_images=600",
            "--protocol=reference",
            f"--fid_cache={tmp_path / 'real.npz'}",
            f"--output={tmp_path / 'flows.json'}",
            *fid,
        ]
    )
    joint, block = result["variants"]["joint"], result["variants"]["freia"]
    assert block["permute_every"] == "block" and block["parameters"] > 0
    assert (block["scale_activation"], block["affine_direction"]) == ("atan", "inverse")
    assert [h["learning_rate"] for h in block["history"]] == [1e-3, 5e-4]
    assert all(math.isfinite(h["test_nll"]) for h in block["history"])
    assert joint["history"] == [] and math.isfinite(joint["final"]["test_nll"])
    assert block["fid_draws"]["seeds"] == joint["fid_draws"]["seeds"] == [0, 1000]

    # The saved flow, drawn through the benchmark's sampler, is the GLF's own sampling.
    scored = glf_mnist.main(
        [data_dir, "--weights", weights, "--protocols=reference", f"--output={tmp_path / 'g.json'}"]
        + fid
    )
    (evaluation,) = scored["evaluations"]
    np.testing.assert_allclose(
        joint["fid_draws"]["values"], evaluation["fid_draws"]["reference"]["values"], rtol=1e-6
    )
    assert block["fid_draws"]["values"] != joint["fid_draws"]["values"]
    assert result["test_reconstruction_mse"] == pytest.approx(
        glf_evaluation.reconstruction_mse(
            glf, glf_evaluation.test_arrays(shared_data_dir / "mnist", 600)
        ),
        rel=1e-6,
    )
