"""Tests of tfflows.data: IDX files, the offline builders, splits, TFDS paths, preprocessing."""

import gzip
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfflows import data

tfds.disable_progress_bar()


@pytest.fixture(scope="module")
def shared_data():
    """`../shared/data` next to the repository (the CI machine has it), else skip."""
    root = os.environ.get("TFFLOWS_SHARED_DATA") or (
        pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    if not (pathlib.Path(root) / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST IDX files not found under {root}")
    return pathlib.Path(root)


def _write_idx(path, array):
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.asarray(array.shape, ">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_idx_dir(directory, num_train=20, num_test=5, first=0):
    """Generated IDX files: image i of a file has pixel (0, 0) = first + i, label i % 10."""
    os.makedirs(directory, exist_ok=True)
    for split, count in (("train", num_train), ("test", num_test)):
        images = np.zeros((count, 28, 28), np.uint8)
        images[:, 0, 0] = first + np.arange(count)
        images_file, labels_file = data.IDX_FILES[split]
        _write_idx(pathlib.Path(directory) / images_file, images)
        _write_idx(pathlib.Path(directory) / labels_file, (np.arange(count) % 10).astype(np.uint8))
    return directory


def served(name, split, **kwargs):
    """Sorted pixel-(0, 0) values of the images `load` serves (the ids of `write_idx_dir`)."""
    return sorted(int(x[0, 0, 0]) for x in data.load(name, split, **kwargs).as_numpy_iterator())


@pytest.fixture(scope="module")
def tiny_idx_dir(tmp_path_factory, shared_data):
    """The first images of the real MNIST files, rewritten as a small IDX directory."""
    directory = tmp_path_factory.mktemp("tiny_mnist")
    for split, (images_file, labels_file) in data.IDX_FILES.items():
        images, labels = data.read_idx_split(shared_data / "mnist", "test")
        count = 12 if split == "train" else 7
        _write_idx(directory / images_file, images[:count, ..., 0])
        _write_idx(directory / labels_file, labels[:count].astype(np.uint8))
    return directory


@pytest.mark.parametrize("folder", ["mnist", "fashion"])
def test_read_idx_on_the_real_files(shared_data, folder):
    images, labels = data.read_idx_split(shared_data / folder, "test")
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels).min() >= 800  # every class is present in quantity
    assert 0 < images.mean() < 255 and images.max() == 255
    if folder == "mnist":
        assert labels[:5].tolist() == [7, 2, 1, 0, 4]  # the published first test labels


def test_read_idx_rejects_damaged_files(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x12\x34\x56\x78rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(bad)
    short = tmp_path / "short.gz"
    with gzip.open(short, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + np.asarray([10], ">i4").tobytes() + b"abc")
    with pytest.raises(ValueError, match="payload"):
        data.read_idx(short)


def test_offline_mnist_through_load_and_tfds(tiny_idx_dir, tmp_path, shared_data):
    ds = data.load("mnist", "test", data_dir=str(tmp_path), manual_dir=str(tiny_idx_dir),
                   with_labels=True)  # fmt: skip
    images, labels = zip(*ds.as_numpy_iterator())
    expected_images, expected_labels = data.read_idx_split(shared_data / "mnist", "test")
    # TFDS shuffles examples when preparing: compare as sets of (image, label).
    got = sorted((lab, img.tobytes()) for img, lab in zip(images, labels))
    want = sorted((lab, img.tobytes()) for img, lab in zip(expected_images[:7], expected_labels))
    assert got == want and images[0].shape == (28, 28, 1) and images[0].dtype == np.uint8
    # Plain tfds.load sees the registered builder and the prepared records; the last of
    # the 12 training images is the validation split.
    assert len(tfds.load("mnist_idx", split="train", data_dir=str(tmp_path))) == 11
    assert len(tfds.load("mnist_idx", split="validation", data_dir=str(tmp_path))) == 1


def test_data_dir_holding_idx_files_is_read_offline(tiny_idx_dir):
    assert data.resolve_builder_name("mnist", data_dir=str(tiny_idx_dir)) == (
        "mnist_idx", None, str(tiny_idx_dir))  # fmt: skip
    assert data.resolve_builder_name("mnist")[0] == "mnist"  # online: TFDS's own builder
    assert data.resolve_builder_name("cifar10", manual_dir="x")[0] == "cifar10"


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfds"))


def test_digits_builder_splits_levels_and_labels(digits_dir):
    from sklearn.datasets import load_digits

    train = list(data.load("digits", "train", data_dir=digits_dir, with_labels=True)
                 .as_numpy_iterator())  # fmt: skip
    test = list(tfds.load("digits", split="test", data_dir=digits_dir).as_numpy_iterator())
    validation = list(data.load("digits", "validation", data_dir=digits_dir).as_numpy_iterator())
    assert (len(train), len(validation), len(test)) == (1294, 143, 360)
    images = np.stack([img for img, _ in train])
    assert images.shape == (1294, 8, 8, 1) and images.dtype == np.uint8
    levels = np.round(np.arange(17) * 255 / 16).astype(np.uint8)
    assert set(np.unique(images)) <= set(levels) and images.max() == 255
    bunch = load_digits()  # the split is fixed, in scikit-learn's order
    arrays, labels = data.digits_arrays("train")
    got = sorted((int(lab), img.tobytes()) for img, lab in train)
    assert got == sorted((int(lab), img.tobytes()) for img, lab in zip(arrays, labels))
    np.testing.assert_array_equal(labels, bunch.target[:1294])
    held_out = data.digits_arrays("validation")[0]  # the last 143 of the first 1,437
    np.testing.assert_array_equal(held_out, np.round(bunch.images[1294:1437] * 255 / 16)[..., None])
    assert sorted(v.tobytes() for v in validation) == sorted(v.tobytes() for v in held_out)


def test_load_options_shapes_dtypes_and_determinism(digits_dir):
    kwargs = dict(data_dir=digits_dir, shuffle=True, seed=3, batch_size=5, pad_to=12)
    a = next(iter(data.load("digits", "test", **kwargs)))
    b = next(iter(data.load("digits", "test", **kwargs)))
    assert a.shape == (5, 12, 12, 1) and a.dtype == tf.uint8
    np.testing.assert_array_equal(a, b)
    assert int(tf.reduce_max(a[:, :2])) == 0  # zero padding on top
    y1 = next(iter(data.load("digits", "test", dequantize=True, **kwargs)))
    y2 = next(iter(data.load("digits", "test", dequantize=True, **kwargs)))
    np.testing.assert_array_equal(y1, y2)
    assert y1.dtype == tf.float32 and -0.5 <= float(tf.reduce_min(y1)) < float(
        tf.reduce_max(y1)) < 0.5  # fmt: skip
    # Dequantized values stay in their bin: floor((y + 0.5) * 256) == x.
    np.testing.assert_array_equal(tf.cast(tf.floor((y1 + 0.5) * 256), tf.uint8), a)
    u = next(iter(data.load("digits", "test", scale="unit", num_bits=5, **kwargs)))
    np.testing.assert_allclose(u, tf.cast(a // 8, tf.float32) / 32)
    # Without autotuning: the same batches, and the option set on the pipeline.
    plain = data.load("digits", "test", autotune=False, **kwargs)
    assert plain.options().autotune.enabled is False
    assert data.load("digits", "test", **kwargs).options().autotune.enabled is not False
    np.testing.assert_array_equal(next(iter(plain)), a)


def test_mock_tfds_paths_mnist_cifar_celeb_a():
    with tfds.testing.mock_data(num_examples=6):  # download=True: mocked, nothing fetched
        mnist = next(iter(data.load("mnist", "train", download=True, batch_size=3, pad_to=32,
                                    scale="centered")))  # fmt: skip
        cifar = next(iter(data.load("cifar10", "validation", batch_size=2, with_labels=True,
                                    download=True)))  # fmt: skip
        celeb = next(iter(data.load("celeb_a", "train", batch_size=2, download=True)))
    assert mnist.shape == (3, 32, 32, 1) and mnist.dtype == tf.float32
    assert float(tf.reduce_min(mnist)) >= -0.5 and float(tf.reduce_max(mnist)) < 0.5
    assert cifar[0].shape == (2, 32, 32, 3) and cifar[0].dtype == tf.uint8
    assert cifar[1].shape == (2,)
    assert celeb.shape == (2, 64, 64, 3) and celeb.dtype == tf.uint8


def test_dataset_fn_for_distribution_strategies(digits_dir):
    fn = data.dataset_fn("digits", "test", global_batch_size=8, data_dir=digits_dir)
    shard = fn(tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
                                          num_replicas_in_sync=2))  # fmt: skip
    sizes = [int(b.shape[0]) for b in shard]
    assert sizes[0] == 4 and sum(sizes) == 180  # half of 360, per-replica batch 8 / 2
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    batch = next(iter(strategy.distribute_datasets_from_function(fn)))
    assert batch.shape == (8, 8, 8, 1)


def test_validation_size_rule():
    sizes = [data.validation_size(n) for n in (60000, 50000, 1437, 20, 12, 2, 1, 0)]
    assert sizes == [5000, 5000, 143, 2, 1, 1, 0, 0]


def test_idx_splits_carve_validation_from_the_end_of_train(tmp_path):
    source = write_idx_dir(tmp_path / "idx", num_train=30, num_test=5)
    kwargs = dict(data_dir=str(tmp_path / "tfds"), manual_dir=str(source))
    assert served("mnist", "train", **kwargs) == list(range(27))
    assert served("mnist", "validation", **kwargs) == [27, 28, 29]  # the file's last 10%
    assert served("mnist", "test", **kwargs) == list(range(5))
    assert served("mnist", "train+validation", **kwargs) == list(range(30))
    assert set(served("mnist", "train[:4]", **kwargs)) < set(range(27))  # slices of train
    sizes = {s: data.split_size("mnist", s, **kwargs) for s in ("train", "validation", "test")}
    assert sizes == {"train": 27, "validation": 3, "test": 5}
    assert data.split_size("mnist", "train[:4]", **kwargs) == 4
    images, labels = data.read_idx_split(source, "validation")
    assert images[:, 0, 0, 0].tolist() == [27, 28, 29] and labels.tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match="'valid'"):
        data.read_idx_split(source, "valid")


def test_validation_shards_after_the_carve_out(digits_dir):
    """Each pipeline's shard of `validation` is a part of it: together exactly the 143."""

    def images(ds):
        return [x.tobytes() for x in ds.unbatch().as_numpy_iterator()]

    whole = sorted(images(data.load("digits", "validation", data_dir=digits_dir, batch_size=64)))
    train = set(images(data.load("digits", "train", data_dir=digits_dir, batch_size=64)))
    fn = data.dataset_fn("digits", "validation", global_batch_size=8, data_dir=digits_dir)
    shards = [images(fn(tf.distribute.InputContext(2, i, 2))) for i in range(2)]
    assert sorted(shards[0] + shards[1]) == whole and len(whole) == 143
    assert not set(whole) & train  # training never sees a validation image
    assert data.split_size("digits", "validation", digits_dir) == 143


class _Split:
    def __init__(self, num_examples):
        self.num_examples = num_examples


def test_resolve_split_for_sets_without_a_validation_split():
    mnist = {"train": _Split(60000), "test": _Split(10000)}
    resolved = {s: data.resolve_split(s, mnist) for s in (
        "train", "validation", "test", "train[:10%]", "validation[-10:]", "train+validation",
        "train[:100]")}  # fmt: skip
    assert resolved == {
        "train": "train[0:55000]",
        "validation": "train[55000:60000]",
        "test": "test[0:10000]",
        "train[:10%]": "train[0:5500]",
        "validation[-10:]": "train[59990:60000]",
        "train+validation": "train[0:55000]+train[55000:60000]",
        "train[:100]": "train[0:100]",
    }
    celeb_a = {"train": _Split(9), "validation": _Split(3), "test": _Split(3)}
    assert data.resolve_split("validation[:2]", celeb_a) == "validation[:2]"  # its own
    assert data.resolve_split("validation", {}) == "validation"  # splits unknown (mocked)
    with pytest.raises(ValueError, match="train\\[:70000\\]|70000"):
        data.resolve_split("train[:70000]", mnist)
    with pytest.raises(ValueError, match="'train\\[:2shard\\]'"):
        data.resolve_split("train[:2shard]", mnist)


def test_reduce_bits_pad_and_uniform_dequantize():
    x = tf.constant([[0, 7, 8, 255]], tf.uint8)
    np.testing.assert_array_equal(data.reduce_bits(x, 5), [[0, 0, 1, 31]])
    np.testing.assert_array_equal(data.reduce_bits(x, 8), x)
    with pytest.raises(ValueError):
        data.reduce_bits(x, 0)
    images = tf.fill([2, 28, 28, 1], tf.constant(255, tf.uint8))
    padded = data.pad_images(images, 32)
    assert padded.shape == (2, 32, 32, 1) and int(tf.reduce_sum(tf.cast(padded, tf.int32))) == (
        2 * 28 * 28 * 255)  # fmt: skip
    big = tf.constant(np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1))
    y = data.uniform_dequantize(big, seed=7)
    np.testing.assert_array_equal(y, data.uniform_dequantize(big, seed=7))
    assert -0.5 <= float(tf.reduce_min(y)) and float(tf.reduce_max(y)) < 0.5
    np.testing.assert_array_equal(tf.cast(tf.floor((y + 0.5) * 256), tf.uint8), big)
    y5 = data.uniform_dequantize(data.reduce_bits(big, 5), num_bits=5, seed=[1, 2])
    np.testing.assert_array_equal(tf.floor((y5 + 0.5) * 32), data.reduce_bits(big, 5))
    noise = (y + 0.5) * 256 - tf.cast(big, tf.float32)  # ~U[0, 1)
    assert 0.35 < float(tf.reduce_mean(noise)) < 0.65
