"""`check_available`: is a data set there, before any TensorFlow or TFDS work?

A cheap check (file-system look-ups only, no builder, no network) that `load` makes
first and that a trainer can make before building a model. It raises a one-line
`DataNotFoundError` (both a `FileNotFoundError` and a `ValueError`) naming the data set,
the directory and what is missing, and never creates a directory.

Where each name comes from:

- `digits`: embedded in scikit-learn, always there.
- `mnist`, `fashion_mnist`: the four original IDX `.gz` files (`IDX_FILES`) in
  `manual_dir`, or in `data_dir`; else a copy TFDS prepared earlier in `data_dir` (or
  TFDS's default directory); else only with `download=True`, which lets TFDS download.
- any other TFDS image data set (`cifar10`, `celeb_a`, ...): a copy TFDS prepared in
  `data_dir` (or TFDS's default directory), or `download=True`.
"""

import difflib
import os

from tfflows.data.idx import IDX_FILES, IDX_SOURCES

__all__ = ["NAMES", "DataNotFoundError", "check_available", "idx_dir_of", "tfds_prepared"]

NAMES = ("digits", "mnist", "fashion_mnist", "cifar10", "celeb_a")


class DataNotFoundError(FileNotFoundError, ValueError):
    """A data set's files are not where the caller said (or nowhere without a download)."""


def _default_tfds_dir():
    # TFDS's own default, read without importing TFDS.
    return os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))


def tfds_prepared(name, data_dir=None):
    """Whether `data_dir` (None: TFDS's default) holds a TFDS-prepared copy of `name`.

    Looks for `<data_dir>/<name>/[<config>/]<version>/dataset_info.json`.
    """
    root = os.path.join(data_dir or _default_tfds_dir(), name)
    if not os.path.isdir(root):
        return False
    for entry in os.scandir(root):
        if entry.is_dir() and (
            os.path.exists(os.path.join(entry.path, "dataset_info.json"))
            or any(
                os.path.exists(os.path.join(sub.path, "dataset_info.json"))
                for sub in os.scandir(entry.path)
                if sub.is_dir()
            )
        ):
            return True
    return False


def _missing_idx_files(directory):
    expected = sum(IDX_FILES.values(), ())
    return [f for f in expected if not os.path.isfile(os.path.join(directory, f))]


def idx_dir_of(data_dir=None, manual_dir=None):
    """The directory to read IDX files from: `manual_dir`, else `data_dir` if it holds them."""
    if manual_dir is not None:
        return manual_dir
    if data_dir is not None and os.path.isdir(data_dir) and not _missing_idx_files(data_dir):
        return data_dir
    return None


def _idx_message(name, data_dir, manual_dir):
    directory = manual_dir if manual_dir is not None else data_dir
    files = ", ".join(sum(IDX_FILES.values(), ()))
    if directory is None:
        problem, target = "no data_dir given", "a directory and pass it as data_dir"
    elif not os.path.isdir(directory):
        problem, target = f"data directory {directory} does not exist", directory
    else:
        missing = _missing_idx_files(directory)
        held = "holds none of the IDX files" if len(missing) == 4 else "lacks " + ", ".join(missing)
        problem, target = f"{directory} {held}", directory
    return (
        f"{name}: {problem}; put {files} (from {IDX_SOURCES[name]}) in {target}, or pass "
        f"download=True (trainers: --download) to let TFDS download {name}."
    )


def check_available(name, data_dir=None, *, manual_dir=None, download=False):
    """Raises unless `load(name, data_dir=..., manual_dir=..., download=...)` can find its data.

    Args:
      name: a data set name (`NAMES`, or another TFDS image data set).
      data_dir, manual_dir, download: as for `load`.

    Raises:
      DataNotFoundError: no data where the arguments point, with a one-line message
        naming the data set, the directory, the files expected and how to get them.
      ValueError: `name` is not a data set name (with `download=True`: not one TFDS knows).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"data set name must be a non-empty string, got {name!r}.")
    if name == "digits":
        return
    if name in IDX_SOURCES:
        if manual_dir is not None:
            if not os.path.isdir(manual_dir) or _missing_idx_files(manual_dir):
                raise DataNotFoundError(_idx_message(name, data_dir, manual_dir))
            return
        if idx_dir_of(data_dir) is not None or download or tfds_prepared(name, data_dir):
            return
        raise DataNotFoundError(_idx_message(name, data_dir, manual_dir))
    if tfds_prepared(name, data_dir):
        return
    if name not in NAMES:
        _check_tfds_name(name)
    if download:
        return
    if data_dir is not None and not os.path.isdir(data_dir):
        raise DataNotFoundError(
            f"{name}: data directory {data_dir} does not exist; pass download=True "
            "(trainers: --download) to let TFDS download and prepare it there."
        )
    raise DataNotFoundError(
        f"{name}: no copy prepared by TFDS in {data_dir or _default_tfds_dir()}; pass "
        "download=True (trainers: --download) to let TFDS download and prepare it."
    )


def _check_tfds_name(name):
    import tensorflow_datasets as tfds  # only for names outside NAMES

    try:
        tfds.builder_cls(name)
    except tfds.core.registered.DatasetNotFoundError:
        close = difflib.get_close_matches(name, NAMES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"unknown data set {name!r}: {hint}neither one of {', '.join(NAMES)} "
            "nor a TFDS data set."
        ) from None
