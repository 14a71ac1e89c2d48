"""Test set-up shared by the whole suite.

The CPU is split into two logical devices before TensorFlow initialises its
runtime, so `tf.distribute.MirroredStrategy` tests run two replicas without
GPUs; everything else uses the first device as usual.
"""

import json
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real MNIST / Fashion-MNIST IDX files CI keeps beside the checkout.

    `TFFLOWS_TEST_DATA_DIR` overrides; tests that need the files skip without them.
    """
    path = pathlib.Path(
        os.environ.get("TFFLOWS_TEST_DATA_DIR", REPO_ROOT.parent / "shared" / "data")
    )
    if not (path / "mnist").is_dir():
        pytest.skip(f"real MNIST files not found under {path}")
    return path


@pytest.fixture(scope="session")
def inception_weights():
    """The FID Inception weights' path (fetched to the cache if need be), else skip."""
    from tfflows import metrics

    try:
        return metrics.fetch_fid_weights(quiet=True)
    except metrics.FidWeightsError as error:
        pytest.skip(f"FID weights unavailable and could not be fetched: {error}")


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session.

    Several strategy objects in one process can hand out colliding collective
    instance keys ("Shape mismatch in the collective instance"); a program
    normally has one strategy, and so do the tests.
    """
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.fixture(scope="session")
def perturb():
    """`perturb(variables, scale, seed)` moves weights off their initial values.

    Zero-initialised couplings are the identity; checks of log-dets and round
    trips need flows that are not.
    """

    def move(variables, scale, seed):
        rng = np.random.default_rng(seed)
        for v in variables:
            v.assign(v + scale * rng.standard_normal(v.shape))

    return move


@pytest.fixture(scope="session")
def mirrored_xla_fit_and_keras_round_trip(mirrored_strategy):
    """`check(make_model, images, path)`: XLA fit under MirroredStrategy, then a .keras trip.

    Builds and compiles `make_model()` under the strategy, initialises it on
    64 images, fits one epoch of two batches, checks the replicas stay
    identical, saves to `path` and checks the reloaded model's likelihoods
    and samples. Returns the trained model.
    """

    def check(make_model, images, path):
        with mirrored_strategy.scope():
            model = make_model()
            model.compile(keras.optimizers.Adam(1e-3), jit_compile=True)
        model.initialize(images[:64])
        ds = tf.data.Dataset.from_tensor_slices(images[:64]).batch(32, drop_remainder=True)
        history = model.fit(ds, epochs=1, verbose=0, shuffle=False)
        assert np.isfinite(history.history["loss"]).all()
        for variable in model.trainable_variables:
            first, second = (v.numpy() for v in variable.value.values)
            np.testing.assert_array_equal(first, second)
        model.save(path)
        restored = keras.models.load_model(path)
        np.testing.assert_allclose(
            restored.log_prob(images[:4], seed=3), model.log_prob(images[:4], seed=3), rtol=1e-6
        )
        np.testing.assert_allclose(restored.sample(2, seed=4), model.sample(2, seed=4), atol=1e-6)
        return model

    return check


# Calls every signature of a SavedModel in a process where only TensorFlow
# (and NumPy) can be imported: what a TF Serving host has.
_SERVE_WITH_TF_ONLY = r"""
import importlib, json, sys
for name in ("tfflows", "keras", "tensorflow_probability"):
    try:
        importlib.import_module(name)
        raise SystemExit(f"{name} should not be importable here")
    except ImportError:
        pass
import numpy as np
import tensorflow as tf

def listed(outputs):
    return {k: v.numpy().decode() if v.dtype == tf.string else v.numpy().tolist()
            for k, v in outputs.items()}

signatures = tf.saved_model.load(sys.argv[1]).signatures
images = tf.constant(np.load(sys.argv[2]))
out = {"signatures": sorted(signatures), "metadata": listed(signatures["metadata"]())}
out["log_prob"] = listed(signatures["log_prob"](images=images))
out["sample"] = signatures["sample"](
    num_samples=tf.constant(3), temperature=tf.constant(0.7), seed=tf.constant(5, tf.int64)
)["images"].numpy().tolist()
if "encode" in signatures:
    latents = signatures["encode"](images=images)["latents"]
    out["latents"] = latents.numpy().tolist()
    out["decoded"] = signatures["decode"](latents=latents)["images"].numpy().tolist()
out["modules"] = sorted(
    m for m in sys.modules if m.split(".")[0] in ("tfflows", "keras", "tensorflow_probability"))
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def serve_with_tensorflow_only(tmp_path_factory):
    """`serve(saved_model_dir, images) -> dict` of every signature's outputs, TF only.

    Runs `python -S` on a view of site-packages without Keras, TFP and
    tfflows. `sample` is called with `num_samples=3, temperature=0.7, seed=5`;
    `decode` with what `encode` returned for `images`.
    """
    site_packages = pathlib.Path(tf.__file__).resolve().parents[1]
    view = tmp_path_factory.mktemp("tensorflow_only_site")
    blocked = ("tfflows", "keras", "tensorflow_probability", "tf_keras")
    for entry in site_packages.iterdir():
        lowered = entry.name.lower()
        if lowered.startswith(blocked) or "editable" in lowered or entry.suffix == ".pth":
            continue
        (view / entry.name).symlink_to(entry)

    def serve(saved_model_dir, images):
        work = tmp_path_factory.mktemp("serve")
        np_path = work / "images.npy"
        import numpy as np

        np.save(np_path, np.asarray(images))
        result = subprocess.run(
            [sys.executable, "-S", "-c", _SERVE_WITH_TF_ONLY, str(saved_model_dir), str(np_path)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=work,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(view)),
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    return serve
