"""Evaluation of a trained model or an exported SavedModel: likelihood and FID."""

import math

import numpy as np
import tensorflow as tf

from tfflows import data
from tfflows.metrics import frechet_inception_distance, pixel_accounting, warn_if_nonfinite
from tfflows.visualization import to_uint8

__all__ = ["SavedModelClient", "evaluate", "reconstruction_fid", "sample_fid"]


class SavedModelClient:
    """An exported model used through its signatures only, as TF Serving would."""

    def __init__(self, path):
        self._loaded = tf.saved_model.load(str(path))
        metadata = self._loaded.signatures["metadata"]()
        self.likelihood_kind = metadata["likelihood_kind"].numpy().decode()
        # SavedModels written before variational dequantization have no such output.
        dequantization = metadata.get("dequantization", tf.constant("uniform"))
        self.dequantization = dequantization.numpy().decode()
        self.image_shape = tuple(int(d) for d in metadata["image_shape"].numpy())

    def log_prob(self, images):
        """The `log_prob` signature: noise seeded per image with `export.LOG_PROB_SEED`."""
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
    num_importance_samples=1,
    samples_per_chunk=None,
    fid_method="sqrtm",
):
    """Bits/dim (saying which bound) on a split, and optionally FID against it.

    Args:
      model: a `tfflows.models.GenerativeModel` or a `SavedModelClient`.
      dataset, split, data_dir, pad_to: the data, as for `tfflows.data.load`.
      batch_size: images per likelihood batch.
      max_examples: evaluate on the first N images of the split only.
      num_fid_samples: generated images for FID (0 skips FID); the paper's
        protocol is 10,000 samples against the 10,000 test images.
      temperature: of the generated images.
      seed: of the generated images, and of the likelihood's noise: each
        image's own, so its number does not depend on `batch_size` (a
        `SavedModelClient` always uses the signature's `export.LOG_PROB_SEED`,
        0, the default here).
      fid_cache_dir: directory caching the real split's Inception statistics.
      fid_method: FID's matrix square root, "sqrtm" (the references') or "eigh"
        (equal up to rounding, much faster for few images: see
        `tfflows.metrics.frechet_distance`).
      num_importance_samples: K > 1 adds the importance-weighted bound `IW_K`
        (Burda et al., 2016) beside the ELBO, for latent-variable models
        (`likelihood` "elbo") given as Keras models; computed
        `samples_per_chunk` samples at a time (None: the model's default).

    Returns:
      A dict with `bits_per_dim`, `log_likelihood` (mean nats), `likelihood`
      (what they are: "exact", "elbo", "joint"), `dequantization` ("uniform"
      or "variational"), `num_examples`; with K > 1
      also `elbo_bits_per_dim`, `elbo_log_likelihood` (the same ELBO),
      `iw_bits_per_dim`, `iw_log_likelihood` and `iw_num_samples`; `bounds`
      names what each bits/dim number is. With FID: `fid`, `fid_method` and
      `nonfinite_samples`, how many samples had a NaN or infinite pixel (a
      flow's inverse can overflow at high temperature); they count as black
      or white pixels (`tfflows.visualization.to_uint8`), and a
      `NonFiniteSamplesWarning` says how many. With `pad_to`, the
      `tfflows.metrics.pixel_accounting` fields say which pixels bits/dim is
      over and add `bits_per_dim_original_pixels`.
    """
    k = _importance_samples(model, num_importance_samples)
    saved_model = isinstance(model, SavedModelClient)
    images = _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples)
    dims = math.prod(model.image_shape)
    log_likelihood, iw = [], []
    for batch in images:
        log_likelihood.append(
            np.asarray(model.log_prob(batch) if saved_model else model.log_prob(batch, seed=seed))
        )
        if k > 1:
            iw.append(
                np.asarray(
                    model.log_prob(
                        batch,
                        seed=seed,
                        num_importance_samples=k,
                        samples_per_chunk=samples_per_chunk,
                    )
                )
            )
    log_likelihood = np.concatenate(log_likelihood)

    def bits(nats):
        return float(-nats.mean() / (dims * math.log(2.0)))

    kind = model.likelihood_kind
    dequantization = getattr(model, "dequantization", "uniform")
    results = {
        "likelihood": kind,
        "dequantization": dequantization,
        "log_likelihood": float(log_likelihood.mean()),
        "bits_per_dim": bits(log_likelihood),
        "num_examples": int(log_likelihood.shape[0]),
        "dataset": dataset,
        "split": split,
        "bounds": {"bits_per_dim": _bound_name(kind, dequantization)},
    }
    if k > 1:
        iw = np.concatenate(iw)
        results.update(
            elbo_log_likelihood=results["log_likelihood"],
            elbo_bits_per_dim=results["bits_per_dim"],
            iw_log_likelihood=float(iw.mean()),
            iw_bits_per_dim=bits(iw),
            iw_num_samples=k,
        )
        results["bounds"].update(
            elbo_bits_per_dim=_bound_name("elbo", dequantization),
            iw_bits_per_dim=f"importance-weighted bound IW_K, K={k} (Burda et al., 2016)"
            + _VARIATIONAL[dequantization],
        )
    if pad_to:
        original_shape = _real_images(dataset, split, data_dir, None, 1, 1).element_spec.shape[1:]
        results.update(
            pixel_accounting(results["log_likelihood"], model.image_shape, original_shape)
        )
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
                fid_method=fid_method,
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
    fid_method="sqrtm",
):
    """FID of `num_samples` samples at `temperature` against a split's images.

    The arguments are `evaluate`'s (`max_examples`: the first N real images).
    Call it once per temperature for a sweep: with `fid_cache_dir` the real
    images go through Inception only once.

    Returns:
      A dict with `fid`, `num_fid_samples`, `fid_method`, `temperature` and
      `nonfinite_samples`.
    """
    generated = np.concatenate(
        [
            np.asarray(
                model.sample(min(batch_size, num_samples - start), temperature, seed=seed + start)
            )
            for start in range(0, num_samples, batch_size)
        ]
    )
    cache = _real_cache_path(fid_cache_dir, dataset, split, pad_to, max_examples)
    images = _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples)
    return {
        "fid": frechet_inception_distance(
            images,
            to_uint8(generated, value_range=(0.0, 1.0)),
            real_cache_path=cache,
            verbose=verbose,
            method=fid_method,
        ),
        "num_fid_samples": int(num_samples),
        "fid_method": fid_method,
        "temperature": float(temperature),
        "nonfinite_samples": warn_if_nonfinite(generated, f"FID samples at T = {temperature}"),
    }


def reconstruction_fid(
    model,
    dataset,
    split="test",
    *,
    data_dir=None,
    pad_to=None,
    batch_size=100,
    max_examples=None,
    num_images=10000,
    fid_cache_dir=None,
    verbose=True,
    fid_method="sqrtm",
):
    """FID and mean squared error of `decode(encode(x))` for the first `num_images` of a split.

    A latent-variable model's samples decode draws from its prior; its
    reconstructions decode the encoder's codes of real images with the same
    decoder. The reconstructions' FID is what samples would score if the
    prior matched the codes exactly, so `sample FID - reconstruction FID` is
    the part of the sample FID due to the prior (or, for f-VAE, the flow)
    not matching the aggregate posterior, and the reconstruction FID the
    part due to the decoder. Both FIDs are against the same real images
    (`max_examples`, `fid_cache_dir` as in `sample_fid`).

    Returns:
      A dict with `reconstruction_fid`, `reconstruction_mse` (per pixel, on the
      [0, 1] scale, against the images themselves) and `num_reconstructions`.
    """
    if getattr(model, "latent_shape", None) is None:
        raise ValueError(f"{type(model).__name__} has no latent space to reconstruct through.")
    originals, decoded = [], []
    for batch in data.load(dataset, split, data_dir=data_dir, pad_to=pad_to, batch_size=batch_size):
        if sum(len(b) for b in originals) >= num_images:
            break
        originals.append(batch.numpy())
        decoded.append(np.asarray(model.decode(model.encode(batch))))
    originals = np.concatenate(originals)[:num_images]
    decoded = np.concatenate(decoded)[:num_images]
    cache = _real_cache_path(fid_cache_dir, dataset, split, pad_to, max_examples)
    images = _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples)
    return {
        "reconstruction_fid": frechet_inception_distance(
            images,
            to_uint8(decoded, value_range=(0.0, 1.0)),
            real_cache_path=cache,
            verbose=verbose,
            method=fid_method,
        ),
        "reconstruction_mse": float(np.mean((decoded - originals / 255.0) ** 2)),
        "num_reconstructions": int(len(decoded)),
    }


_BOUND_NAMES = {
    "exact": "exact log-likelihood of the uniformly dequantized image (a bound on the 8-bit one)",
    "elbo": "ELBO, one posterior sample per image",
    "joint": "joint density of the image and its code (not a bound on log p(x))",
}


# What variational dequantization adds to a bound's name (Flow++, section 3.1).
_VARIATIONAL = {
    "uniform": "",
    "variational": ", variationally dequantized (u ~ q(u|x), Flow++ eq. 12)",
}


def _bound_name(kind, dequantization):
    return _BOUND_NAMES[kind] + _VARIATIONAL[dequantization]


def _importance_samples(model, num_importance_samples):
    """K checked against the model: IW bounds need a Keras latent-variable model."""
    k = num_importance_samples
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"num_importance_samples must be a positive integer, got {k!r}.")
    if k > 1 and isinstance(model, SavedModelClient):
        raise ValueError(
            "num_importance_samples > 1 needs the Keras model (--model_dir): a SavedModel's "
            "log_prob signature gives the single-sample bound only."
        )
    if k > 1 and model.likelihood_kind != "elbo":
        raise ValueError(
            f"num_importance_samples={k} needs a latent-variable model (likelihood 'elbo'); "
            f"this model's log_prob is {model.likelihood_kind!r}."
        )
    return int(k)


def _real_cache_path(fid_cache_dir, dataset, split, pad_to, max_examples):
    """Where the real images' Inception statistics are cached (None: not cached)."""
    if not fid_cache_dir:
        return None
    first = f"-first{max_examples}" if max_examples else ""
    return f"{fid_cache_dir}/{dataset}-{split}-pad{pad_to or 0}{first}.npz"


def _real_images(dataset, split, data_dir, pad_to, batch_size, max_examples):
    images = data.load(dataset, split, data_dir=data_dir, pad_to=pad_to, batch_size=batch_size)
    if max_examples:
        images = images.unbatch().take(max_examples).batch(batch_size)
    return images
