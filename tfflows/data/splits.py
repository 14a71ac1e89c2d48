"""The validation carve-out: which images of a training split are held out, and how.

Every data set has three splits, `train`, `validation` and `test`, and training never
sees a validation image. Where the data set has no validation split of its own, it is
carved from the end of the published training split, without shuffling (the published
order is fixed, so the carve-out is deterministic):

    validation = the last `validation_size(N)` images of the N training images,
    train      = the other, first N - validation_size(N) images,
    validation_size(N) = min(5,000, N // 10)  (at least 1 when N >= 2).

MNIST and Fashion-MNIST: the last 5,000 of the 60,000 (train 55,000); CIFAR-10: the last
5,000 of the 50,000 (train 45,000); `digits`: the last 143 of its 1,437 training images
(train 1,294). CelebA keeps TFDS's own `validation` split. `test` is never touched.

TFDS split strings slice these splits: `"train[:100]"` is the first 100 images of the
reduced `train`, `"validation[50%:]"` the second half of the carve-out, and
`"train+validation"` the whole published training split.
"""

import tensorflow_datasets as tfds

__all__ = ["VALIDATION_MAX", "resolve_split", "validation_size"]

VALIDATION_MAX = 5000  # images held out of a training split at most (10% below 50,000)


def validation_size(num_train):
    """Images the carve-out takes from a training split of `num_train` images."""
    if num_train < 2:
        return 0
    return min(VALIDATION_MAX, max(num_train // 10, 1))


class _Size:
    """Stands for a split of `num_examples` images in TFDS's slicing arithmetic."""

    def __init__(self, num_examples):
        self.num_examples = num_examples


def resolve_split(split, split_infos):
    """Rewrites a split string for a data set without its own `validation` split.

    Args:
      split: a TFDS split string over `train`/`validation`/`test` (slices and `+` allowed).
      split_infos: the data set's `builder.info.splits`. If it has a `validation` split,
        or no `train` split is known (e.g. under `tfds.testing.mock_data`), `split` is
        returned unchanged.

    Returns:
      A TFDS split string over the data set's stored splits, e.g. `"validation"` ->
      `"train[55000:60000]"` and `"train[:10%]"` -> `"train[0:5500]"` for MNIST.
    """
    if "validation" in split_infos or "train" not in split_infos:
        return split
    num_train = split_infos["train"].num_examples
    held_out = validation_size(num_train)
    sizes = {name: _Size(info.num_examples) for name, info in split_infos.items()}
    sizes["train"] = _Size(num_train - held_out)
    sizes["validation"] = _Size(held_out)
    instruction = tfds.core.ReadInstruction.from_spec(split)
    try:
        absolute = instruction.to_absolute(sizes)
    except AttributeError:  # `_Size` has no shards
        raise ValueError(
            f"split {split!r}: shard slices need a stored split, and train and validation "
            "are carved from one here."
        ) from None
    parts = []
    for part in absolute:
        start = part.from_ or 0
        stop = sizes[part.splitname].num_examples if part.to is None else part.to
        name, offset = part.splitname, 0
        if name == "validation":
            name, offset = "train", num_train - held_out
        parts.append(f"{name}[{start + offset}:{stop + offset}]")
    return "+".join(parts)
