"""Atomic replacement of files and directories: write beside, then rename.

A process killed at any moment leaves either the previous version or the new
one, never a half-written file: `os.replace` within one directory is atomic on
POSIX file systems. Leftovers of a killed write are named
`.partial-<pid>-<name>` beside `<name>` and removed by its next write.
"""

import os
import pathlib
import shutil

__all__ = ["replace_directory", "replace_file"]

_PREFIX = ".partial-"


def _temporary(path, tag=""):
    # Same directory (rename stays atomic), same ending (Keras checks `.keras`, `.weights.h5`).
    return path.with_name(f"{_PREFIX}{tag}{os.getpid()}-{path.name}")


def _remove_leftovers(path):
    for leftover in path.parent.glob(f"{_PREFIX}*-{path.name}"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def replace_file(path, write):
    """Calls `write(temporary_path)`, then renames the result over `path`.

    `write` gets a path in the same directory whose name ends as `path`'s.
    Returns `path`.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    temporary = _temporary(path)
    try:
        write(temporary)
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def replace_directory(path, write):
    """Calls `write(temporary_directory)`, then swaps it in for the directory `path`.

    Killed during `write`, the previous directory is untouched; killed between
    the two renames, `path` is absent (its previous version waits under a
    temporary name, removed by the next write). Returns `path`.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    temporary = _temporary(path)
    old = _temporary(path, "old-")
    try:
        write(temporary)
        if path.exists():
            os.replace(path, old)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return path
