"""Choosing a `tf.distribute` strategy, and logical CPU devices for testing it."""

import json
import os

import tensorflow as tf

__all__ = ["STRATEGIES", "configure_cpu_devices", "is_chief", "make_strategy", "worker_id"]

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def configure_cpu_devices(num_devices):
    """Splits the CPU into `num_devices` logical devices (MirroredStrategy without GPUs).

    Must run before TensorFlow initialises its runtime (before any op runs).
    """
    if num_devices <= 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
        )
    except RuntimeError as error:
        raise RuntimeError(
            "Logical CPU devices must be configured before TensorFlow runs any op; "
            "call configure_cpu_devices first thing in the program."
        ) from error


def make_strategy(kind="default", tpu=None):
    """Returns the strategy named `kind` (one of `STRATEGIES`).

    - default: the default strategy (one device).
    - mirrored: `MirroredStrategy` over all local GPUs, or over the logical CPU
      devices when there is no GPU (see `configure_cpu_devices`).
    - multi_worker: `MultiWorkerMirroredStrategy` configured from `TF_CONFIG`.
    - tpu: `TPUStrategy` on the TPU named by `tpu` ("" or "local" for a local one).
    """
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        return tf.distribute.MirroredStrategy(devices)
    if kind == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("multi_worker needs TF_CONFIG describing the cluster and this task.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {kind!r}.")


def worker_id(strategy):
    """This worker's index in a multi-worker cluster (0 otherwise)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 0
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    if task.get("type") in (None, "chief"):
        return 0
    # Without a "chief" job, worker 0 is the chief.
    return int(task.get("index", 0)) + int("chief" in resolver.cluster_spec().as_dict())


def is_chief(strategy):
    """Whether this task writes the run's files (checkpoints, logs, exports)."""
    return worker_id(strategy) == 0
