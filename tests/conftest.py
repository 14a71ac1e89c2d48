"""Test set-up shared by the whole suite.

The CPU is split into two logical devices before TensorFlow initialises its
runtime, so `tf.distribute.MirroredStrategy` tests run two replicas without
GPUs; everything else uses the first device as usual.
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
def mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for the whole session.

    Several strategy objects in one process can hand out colliding collective
    instance keys ("Shape mismatch in the collective instance"); a program
    normally has one strategy, and so do the tests.
    """
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
