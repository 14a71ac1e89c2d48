"""Evaluation of a trained model or an exported SavedModel: likelihood and FID."""

import math

import numpy as np
import tensorflow as tf

from tfflows import data
from tfflows.metrics import frechet_inception_distance
from tfflows.visualization import to_uint8

__all__ = ["SavedModelClient", "evaluate", "sample_fid"]


class SavedModelClient:
    """An exported model used through its signatures only, as TF Serving would."""

    def __init__(self, path):
        self._loaded = tf.saved_model.load(str(path))
        metadata = self._loaded.signatures["metadata"]()
        self.likelihood_kind = metadata["likelihood_kind"].numpy().decode()
        self.image_shape = tuple(int(d) for d in metadata["image_shape"].numpy())

    def log_prob(self, images):
        return self._loaded.signatures["log_prob"](images=tf.cast(images, tf.uint8))["log_prob"]

    def sample(self, num_samples, temperature=1.0, seed=0):
        return self._loaded.signatures["sample"](
            num_samples=tf.constant(num_samples, tf.int32),
            temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(seed, tf.int64),
        )["images"]


def evaluate(
    model,
    dataset,
    split="test",
    *,
    data_dir=None,
    pad_to=None,
    batch_size=100,
    max_examples=None,
    num_fid_samples=0,
    temperature=1.0,
    seed=0,
    fid_cache_dir=None,
    verbose=True,
):
    """Bits/dim (saying which bound) on a split, and optionally FID against it.

    Args:
      model: a `tfflows.models.GenerativeModel` or a `SavedModelClient`.
      dataset, split, data_dir, pad_to: the data, as for `tfflows.data.load`.
      batch_size: images per likelihood batch.
      max_examples: evaluate on the first N images of the split only.
      num_fid_samples: generated images for FID (0 skips FID); the paper's
        protocol is 10,000 samples against the 10,000 test images.
      temperature, seed: of the generated images.
      fid_cache_dir: directory caching the real split's Inception statistics.

    Returns:
      A dict with `bits_per_dim`, `log_likelihood` (mean nats), `likelihood`
      (what they are: "exact", "elbo", "joint"), `num_examples`, and `fid`
      with `nonfinite_samples`: how many samples had a NaN or infinite pixel
      (a flow's inverse can overflow at high temperature); they count as
      black or white pixels (`tfflows.visualization.to_uint8`).
    """
    images = _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples)
    log_likelihood = np.concatenate([np.asarray(model.log_prob(batch)) for batch in images])
    dims = math.prod(model.image_shape)
    results = {
        "likelihood": model.likelihood_kind,
        "log_likelihood": float(log_likelihood.mean()),
        "bits_per_dim": float(-log_likelihood.mean() / (dims * math.log(2.0))),
        "num_examples": int(log_likelihood.shape[0]),
        "dataset": dataset,
        "split": split,
    }
    if num_fid_samples:
        results.update(
            sample_fid(
                model,
                dataset,
                split,
                data_dir=data_dir,
                pad_to=pad_to,
                batch_size=batch_size,
                max_examples=max_examples,
                num_samples=num_fid_samples,
                temperature=temperature,
                seed=seed,
                fid_cache_dir=fid_cache_dir,
                verbose=verbose,
            )
        )
    return results


def sample_fid(
    model,
    dataset,
    split="test",
    *,
    data_dir=None,
    pad_to=None,
    batch_size=100,
    max_examples=None,
    num_samples=10000,
    temperature=1.0,
    seed=0,
    fid_cache_dir=None,
    verbose=True,
):
    """FID of `num_samples` samples at `temperature` against a split's images.

    The arguments are `evaluate`'s (`max_examples`: the first N real images).
    Call it once per temperature for a sweep: with `fid_cache_dir` the real
    images go through Inception only once.

    Returns:
      A dict with `fid`, `num_fid_samples`, `temperature` and `nonfinite_samples`.
    """
    generated = np.concatenate(
        [
            np.asarray(
                model.sample(min(batch_size, num_samples - start), temperature, seed=seed + start)
            )
            for start in range(0, num_samples, batch_size)
        ]
    )
    cache = None
    if fid_cache_dir:
        first = f"-first{max_examples}" if max_examples else ""
        cache = f"{fid_cache_dir}/{dataset}-{split}-pad{pad_to or 0}{first}.npz"
    images = _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples)
    return {
        "fid": frechet_inception_distance(
            images,
            to_uint8(generated, value_range=(0.0, 1.0)),
            real_cache_path=cache,
            verbose=verbose,
        ),
        "num_fid_samples": int(num_samples),
        "temperature": float(temperature),
        "nonfinite_samples": int(np.sum(~np.isfinite(generated).all(axis=(1, 2, 3)))),
    }


def _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples):
    images = data.load(dataset, split, data_dir=data_dir, pad_to=pad_to, batch_size=batch_size)
    if max_examples:
        images = images.unbatch().take(max_examples).batch(batch_size)
    return images
