"""Missing, unknown and damaged data: immediate one-line errors naming the culprit.

Generated IDX files only (`write_idx_dir`); nothing downloads. TFDS's default directory is
pointed at an empty temporary one, so a copy prepared on this machine cannot hide a miss.
"""

import logging
import os

import pytest
import tensorflow_datasets as tfds
from test_data import served, write_idx_dir

from tfflows import data
from tfflows.data import loading

FILES = sum(data.IDX_FILES.values(), ())


@pytest.fixture(autouse=True)
def empty_tfds_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds_home"))


@pytest.fixture
def no_tfds(monkeypatch):
    """Fails the test if `load` gets as far as building a TFDS builder."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"TFDS was asked for {args}")

    monkeypatch.setattr(loading.tfds, "builder", refuse)


def _one_line_error(error_type, fn, *args, **kwargs):
    with pytest.raises(error_type) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_missing_data_dir_fails_at_once_naming_it_and_the_files(tmp_path, no_tfds, name):
    missing = tmp_path / "does" / "not" / "exist"
    message = _one_line_error(data.DataNotFoundError, data.load, name, data_dir=str(missing))
    assert f"{missing} does not exist" in message and data.IDX_SOURCES[name] in message
    assert all(f in message for f in FILES) and "download=True" in message
    assert not missing.parent.exists()  # no directory made
    # The same error is a FileNotFoundError and a ValueError (what a trainer catches).
    for error_type in (FileNotFoundError, ValueError):
        _one_line_error(error_type, data.check_available, name, str(missing))


def test_no_data_dir_and_incomplete_dirs_are_named(tmp_path, no_tfds):
    message = _one_line_error(data.DataNotFoundError, data.load, "mnist", "test")
    assert "no data_dir given" in message and all(f in message for f in FILES)
    empty = tmp_path / "empty"
    empty.mkdir()
    message = _one_line_error(data.DataNotFoundError, data.load, "mnist", data_dir=str(empty))
    assert f"{empty} holds none of the IDX files" in message
    partial = write_idx_dir(tmp_path / "partial")
    os.remove(partial / FILES[3])
    message = _one_line_error(
        data.DataNotFoundError, data.load, "mnist", data_dir=str(tmp_path), manual_dir=str(partial)
    )
    assert f"{partial} lacks {FILES[3]};" in message
    message = _one_line_error(
        data.DataNotFoundError, data.check_available, "mnist", manual_dir=str(tmp_path / "x")
    )
    assert f"{tmp_path / 'x'} does not exist" in message


def test_other_tfds_sets_need_a_prepared_copy_or_download(tmp_path, no_tfds):
    message = _one_line_error(data.DataNotFoundError, data.load, "cifar10", data_dir=str(tmp_path))
    assert message.startswith("cifar10: ") and str(tmp_path) in message
    assert "download=True" in message
    missing = tmp_path / "nowhere"
    message = _one_line_error(data.DataNotFoundError, data.load, "celeb_a", data_dir=str(missing))
    assert f"{missing} does not exist" in message and not missing.exists()
    # A prepared copy (TFDS's layout) or download=True passes the check.
    (tmp_path / "cifar10" / "3.0.2").mkdir(parents=True)
    (tmp_path / "cifar10" / "3.0.2" / "dataset_info.json").write_text("{}")
    data.check_available("cifar10", str(tmp_path))
    data.check_available("cifar10", str(missing), download=True)
    data.check_available("mnist", str(missing), download=True)
    data.check_available("digits", str(missing))  # embedded: never missing
    data.check_available("mnist", str(write_idx_dir(tmp_path / "idx")))


def test_unknown_names_are_rejected_early(no_tfds):
    message = _one_line_error(ValueError, data.check_available, "mnsit")
    assert "'mnsit'" in message and "did you mean 'mnist'?" in message
    assert all(name in message for name in data.NAMES)
    _one_line_error(ValueError, data.check_available, "no_such_set", download=True)
    _one_line_error(ValueError, data.check_available, "")
    assert data.NAMES == ("digits", "mnist", "fashion_mnist", "cifar10", "celeb_a")


def _truncate(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _flip_payload(path):
    raw = bytearray(path.read_bytes())
    raw[-12] ^= 0xFF  # inside the deflate stream or its CRC
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", [_truncate, _flip_payload])
def test_read_idx_names_a_damaged_file(tmp_path, damage):
    path = write_idx_dir(tmp_path) / FILES[0]
    damage(path)
    message = _one_line_error(ValueError, data.read_idx, path)
    assert message.startswith(f"{path}: damaged file") and "download it again" in message
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(b"not gzip at all")
    assert str(not_gzip) in _one_line_error(ValueError, data.read_idx, not_gzip)


def test_damaged_file_at_first_preparation_is_named(tmp_path):
    source = write_idx_dir(tmp_path / "idx")
    _truncate(source / FILES[3])
    kwargs = dict(data_dir=str(tmp_path / "tfds"), manual_dir=str(source))
    message = _one_line_error(ValueError, data.load, "mnist", "train", **kwargs)
    assert str(source / FILES[3]) in message
    assert not tfds.builder("mnist_idx", data_dir=str(tmp_path / "tfds")).is_prepared()


def test_prepared_copy_follows_its_source_files(tmp_path, caplog):
    source = write_idx_dir(tmp_path / "idx", num_train=20)
    kwargs = dict(data_dir=str(tmp_path / "tfds"), manual_dir=str(source))
    assert served("mnist", "validation", **kwargs) == [18, 19]
    record = data.source_fingerprint(source)
    assert set(record) == set(FILES) and record[FILES[0]]["size"] > 0
    # Different valid data: the stale copy is rebuilt, saying so once, and served anew.
    write_idx_dir(source, num_train=30, first=100)
    with caplog.at_level(logging.WARNING, logger="tfflows.data.idx"):
        assert served("mnist", "validation", **kwargs) == [127, 128, 129]
        assert served("mnist", "train", **kwargs) == list(range(100, 127))
    rebuilt = [r.getMessage() for r in caplog.records if "preparing it again" in r.getMessage()]
    assert len(rebuilt) == 1 and FILES[0] in rebuilt[0] and str(source) in rebuilt[0]
    assert data.split_size("mnist", "train", **kwargs) == 27
    # A damaged replacement is named, and the copy of the old files is not served.
    good = (source / FILES[1]).read_bytes()
    _truncate(source / FILES[1])
    message = _one_line_error(ValueError, data.load, "mnist", "test", **kwargs)
    assert str(source / FILES[1]) in message
    assert tfds.builder("mnist_idx", data_dir=kwargs["data_dir"]).is_prepared()  # kept, refused
    (source / FILES[1]).write_bytes(good)  # restored: the prepared copy matches again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tfflows.data.idx"):
        assert served("mnist", "validation", **kwargs) == [127, 128, 129]
    assert not [r for r in caplog.records if "preparing it again" in r.getMessage()]
