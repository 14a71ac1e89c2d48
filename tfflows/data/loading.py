"""`load`: one entry point from a data set name to a `tf.data.Dataset` of images.

Online, names resolve to TFDS's own builders (`mnist`, `fashion_mnist`, `cifar10`,
`celeb_a`, or any TFDS image data set with an `image` feature). Offline, MNIST and
Fashion-MNIST come from their original IDX `.gz` files in a directory the caller names
(`manual_dir`, or a `data_dir` that holds them), through the registered builders
`mnist_idx` / `fashion_mnist_idx`; `digits` needs no file at all.

Splits: `train`, `validation` and `test` (and TFDS slices of them, `"train[:100]"`,
`"train+validation"`, ...). `validation` is held out of the published training split and
`train` is the rest (`tfflows.data.splits`: the last 5,000 of MNIST's 60,000); choose
models on `validation`, report on `test`. `split_size` counts a split's images.

Missing data fails at once (`check_available`): nothing is downloaded unless
`download=True` asks TFDS to (with its progress bar), and no directory is created.

For `tf.distribute`, `dataset_fn` returns the function that
`strategy.distribute_datasets_from_function` wants: each input pipeline reads its own
shard and batches with the per-replica batch size.
"""

import tensorflow as tf
import tensorflow_datasets as tfds

from tfflows.data import digits as _digits  # noqa: F401  (registers the `digits` builder)
from tfflows.data.availability import check_available, idx_dir_of
from tfflows.data.dequantization import uniform_dequantize
from tfflows.data.preprocessing import (
    SCALES,
    center_crop_resize,
    pad_images,
    reduce_bits,
    scale_images,
)
from tfflows.data.splits import resolve_split

__all__ = ["dataset_fn", "load", "resolve_builder_name", "split_size"]

_OFFLINE_BUILDERS = {"mnist": "mnist_idx", "fashion_mnist": "fashion_mnist_idx"}
_LOCAL_BUILDERS = ("digits", *_OFFLINE_BUILDERS.values())  # prepared here, nothing downloaded


def resolve_builder_name(name, data_dir=None, manual_dir=None):
    """Returns `(tfds_name, data_dir, manual_dir)` for `load`'s arguments.

    `mnist`/`fashion_mnist` with a directory of IDX files (as `manual_dir`, or as
    `data_dir`, which is then left to TFDS's default for the prepared records) use the
    offline builders; everything else goes to TFDS by its own name.
    """
    if name in _OFFLINE_BUILDERS:
        idx_dir = idx_dir_of(data_dir, manual_dir)
        if idx_dir is not None:
            return _OFFLINE_BUILDERS[name], (data_dir if manual_dir else None), idx_dir
    return name, data_dir, manual_dir


def _prepared_builder(name, data_dir, manual_dir, download):
    """The TFDS builder of `name`, prepared; raises at once if its data is missing."""
    check_available(name, data_dir, manual_dir=manual_dir, download=download)
    tfds_name, data_dir, manual_dir = resolve_builder_name(name, data_dir, manual_dir)
    builder = tfds.builder(tfds_name, data_dir=data_dir)
    if tfds_name in _LOCAL_BUILDERS or download:
        config = tfds.download.DownloadConfig(manual_dir=manual_dir)
        builder.download_and_prepare(download_config=config)
        if tfds_name in _LOCAL_BUILDERS:  # re-read: a changed source may have rebuilt it
            builder = tfds.builder(tfds_name, data_dir=data_dir)
    return builder


def split_size(name, split, data_dir=None, *, manual_dir=None, download=False):
    """Number of images in `split` of `name` (arguments as `load`), e.g. 5000 for MNIST's
    `"validation"`."""
    builder = _prepared_builder(name, data_dir, manual_dir, download)
    return int(builder.info.splits[resolve_split(split, builder.info.splits)].num_examples)


def load(
    name,
    split="train",
    *,
    data_dir=None,
    manual_dir=None,
    download=False,
    with_labels=False,
    batch_size=None,
    shuffle=False,
    shuffle_buffer=10_000,
    seed=None,
    repeat=False,
    drop_remainder=False,
    num_bits=8,
    pad_to=None,
    scale=None,
    dequantize=False,
    cache=False,
    prefetch=True,
    autotune=True,
    input_context=None,
):
    """Loads an image data set as a `tf.data.Dataset`.

    Args:
      name: one of `NAMES`, or any TFDS image data set with an `image` feature.
      split: `"train"`, `"validation"`, `"test"` or a TFDS split string over them
        (`"train[:90%]"`, `"train+validation"`, ...); `train` excludes `validation`
        (see the module docstring).
      data_dir: TFDS's directory of prepared data (None: TFDS's default). For
        `mnist`/`fashion_mnist` a directory holding the IDX `.gz` files is also accepted.
      manual_dir: directory with the original MNIST/Fashion-MNIST IDX `.gz` files, for
        machines without internet.
      download: let TFDS download and prepare a data set that is not there yet. False:
        missing data raises `DataNotFoundError` at once, naming what is missing.
      with_labels: yield `(image, label)` instead of `image`.
      batch_size: batch size (per input pipeline when `input_context` is given); None
        for unbatched elements.
      shuffle, shuffle_buffer, seed: shuffle with a buffer; with a seed the order (and the
        dequantization noise) is reproducible; a new order each epoch either way.
      repeat: repeat indefinitely (before batching, so batches straddle epochs).
      drop_remainder: drop a last smaller batch (static batch shape, needed by XLA/TPU).
      num_bits: n-bit reduction (`reduce_bits`) applied to the uint8 images.
      pad_to: zero-pad to `pad_to x pad_to` (e.g. 32 for MNIST in multi-scale flows).
      scale: None for integer images (uint8 in `0..2^n-1`), `"centered"` for
        `x / 2^n - 0.5` or `"unit"` for `x / 2^n` (float32).
      dequantize: add `u ~ U[0, 1)` before scaling (implies `scale="centered"` if None).
      cache: cache the decoded images in memory (small sets).
      prefetch: prefetch with `tf.data.AUTOTUNE`.
      autotune: tf.data's autotuning of parallelism and buffers. On TF 2.21, deleting
        an iterator whose autotune thread sleeps (Keras does at every epoch's start)
        can block for tens of seconds: every other GLF epoch on MNIST, ~30 s of a
        ~47 s epoch, with the CPU idle (`benchmarks/README.md`). Small cached sets
        lose nothing without it.
      input_context: a `tf.distribute.InputContext`: keep only this pipeline's shard.

    Returns:
      A `tf.data.Dataset` of images `[H, W, C]` (batched: `[B, H, W, C]`), uint8 unless
      `scale`/`dequantize` asks for float32, and int64 labels if `with_labels`.
      CelebA is centre-cropped to 160x160 and resized to 64x64 (the GLF protocol).

    Raises:
      DataNotFoundError: no data where `data_dir`/`manual_dir` point (and not `download`).
      ValueError: a damaged IDX file (named), an unknown name or split.
    """
    if scale is not None and scale not in SCALES:
        raise ValueError(f"scale must be None or one of {SCALES}, got {scale!r}.")
    if dequantize and scale is None:
        scale = "centered"
    builder = _prepared_builder(name, data_dir, manual_dir, download)
    ds = builder.as_dataset(
        split=resolve_split(split, builder.info.splits),
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    if input_context is not None and input_context.num_input_pipelines > 1:
        # Element-wise sharding, after the validation carve-out (a split of its own):
        # works for sets stored in a single file too.
        ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)

    def integer_image(example):
        image = example["image"]
        if name == "celeb_a":
            image = center_crop_resize(image, crop=160, size=64)
        if pad_to is not None:
            image = pad_images(image, pad_to)
        image = reduce_bits(image, num_bits)
        if not with_labels:
            return image
        if "label" not in example:
            raise ValueError(f"Data set {name!r} has no `label` feature.")
        return image, example["label"]

    ds = ds.map(integer_image, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if scale is not None:
        ds = _to_model_space(ds, num_bits, scale, dequantize, seed, with_labels)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    if not autotune:
        options = tf.data.Options()
        options.autotune.enabled = False
        ds = ds.with_options(options)
    return ds


def _to_model_space(ds, num_bits, scale, dequantize, seed, with_labels):
    def split(element):
        return element if with_labels else (element, None)

    def join(image, label):
        return (image, label) if with_labels else image

    if not dequantize:
        return ds.map(
            lambda e: join(scale_images(split(e)[0], num_bits, scale), split(e)[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    if seed is None:

        def add_noise(element):
            image, label = split(element)
            return join(uniform_dequantize(image, num_bits) + _unit_offset(scale), label)

        return ds.map(add_noise, num_parallel_calls=tf.data.AUTOTUNE)
    # One stateless seed per element from a seeded random stream: reproducible, and new
    # noise each epoch (rerandomize_each_iteration), independent of parallelism.
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def add_seeded_noise(element, element_seed):
        image, label = split(element)
        y = uniform_dequantize(image, num_bits, seed=element_seed)
        return join(y + _unit_offset(scale), label)

    return tf.data.Dataset.zip(ds, seeds).map(add_seeded_noise, tf.data.AUTOTUNE)


def _unit_offset(scale):
    # uniform_dequantize returns the centered space; "unit" is the same shifted by 0.5.
    return 0.5 if scale == "unit" else 0.0


def dataset_fn(name, split="train", *, global_batch_size, **kwargs):
    """Returns `fn(input_context)` for `strategy.distribute_datasets_from_function`.

    Each pipeline reads its shard, batched with
    `input_context.get_per_replica_batch_size(global_batch_size)`; other arguments as `load`.
    """

    def fn(input_context):
        return load(
            name,
            split,
            batch_size=input_context.get_per_replica_batch_size(global_batch_size),
            input_context=input_context,
            **kwargs,
        )

    return fn
