"""What every result JSON records about the run: versions, CPU, command.

Timings differ between machines of one kind (AVX2-only EPYCs, AVX-512 and
AMX Xeons), so a result names the CPU model, its vector extensions, its
cores and how many of them the run could use (`taskset`) next to the
library and TensorFlow versions and the command that produced it.
"""

import os
import platform
import shlex
import sys
from importlib import metadata

__all__ = ["describe"]

_VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def _cpu():
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return {
        "model": model,
        "vector_extensions": [flag for flag in _VECTOR_FLAGS if flag in flags],
        "cores": os.cpu_count(),
        # A run pinned with `taskset` has fewer cores than the machine: say how many it had.
        "cores_used": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def describe(argv=None):
    """A dict for a result JSON: versions, CPU, Python, and the command line.

    Directory flags (`--data_dir=...`, `--output_dir ...`) are written as
    `/path/to/<last part>`: a result names no machine's paths.
    """
    argv = sys.argv if argv is None else argv
    command = ["python", "-m", _module_name(argv[0]), *_redact(argv[1:])] if argv else []
    return {
        "versions": {
            name: _version(name)
            for name in ("tfflows", "tensorflow", "tensorflow-probability", "keras")
        },
        "python": platform.python_version(),
        "cpu": _cpu(),
        "command": shlex.join(command),
    }


def _redact(args):
    """Directory flags' values, and every absolute path, as `/path/to/<last part>`."""
    out, redact_next = [], False
    for arg in args:
        name, equals, value = arg.partition("=")
        if redact_next or os.path.isabs(arg):
            out.append(_placeholder(arg))
        elif equals and name.startswith("--") and (name.endswith("dir") or os.path.isabs(value)):
            out.append(f"{name}={_placeholder(value)}")
        else:
            out.append(arg)
        redact_next = not equals and arg.startswith("--") and arg.endswith("dir")
    return out


def _placeholder(path):
    return "/path/to/" + (os.path.basename(os.path.normpath(path)) or "dir")


def _module_name(path):
    """`benchmarks/x.py` -> `benchmarks.x` (the way the scripts are run)."""
    parts = os.path.normpath(path).split(os.sep)
    if "benchmarks" in parts:
        parts = parts[parts.index("benchmarks") :]
    return ".".join(parts)[: -len(".py")] if path.endswith(".py") else path
