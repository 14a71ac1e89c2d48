"""TensorFlow imported without its start-up noise, for the binaries.

On CPU-only machines TensorFlow logs, at import and first use, that no CUDA
driver was found (twice, before its logging is configured) and a `cuInit`
error. Unless `TF_CPP_MIN_LOG_LEVEL` is set, the binaries hide TensorFlow's
C++ logs below FATAL and its import-time banner; real failures still arrive
as Python exceptions.
"""

import os
import sys

__all__ = ["import_tensorflow_quietly"]


def import_tensorflow_quietly():
    """Imports TensorFlow with its import-time stderr output hidden (if not set verbose)."""
    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        import tensorflow  # noqa: F401

        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
