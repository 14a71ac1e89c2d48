"""Choosing the sampling temperature on held-out training images, never on the test split.

Generative models are often sampled at a temperature `T < 1` (Glow's section
5, f-VAE's eq. 16, the flow-decoder VAE's Glow layer), and FID depends on it
strongly. A temperature read off the test split's FIDs is a choice made on
the test set, and the reported FID is then biased low. `select_temperature`
scores each candidate against the `validation` split (the end of the
published training images, which no model trains on: `tfflows.data`) and
returns the best, for `evaluate` to report on the test split:

    choice = select_temperature(model, "mnist", [0.0, 0.5, 0.8, 1.0], data_dir=...)
    evaluate(model, "mnist", "test", num_fid_samples=10000, temperature=choice["temperature"])
"""

import math

from tfflows.temperatures import check_temperatures
from tfflows.training.evaluation import sample_fid

__all__ = ["check_temperatures", "select_temperature"]  # the first re-exported


def select_temperature(
    model, dataset, temperatures, *, split="validation", num_samples=5000, **fid_kwargs
):
    """The temperature of lowest FID against a held-out split, with every candidate's FID.

    Args:
      model: what `sample_fid` takes (a model or a `SavedModelClient`).
      dataset: the data set name.
      temperatures: the candidates (finite, >= 0).
      split: the split scored; "test" is refused (selecting on it biases the
        number reported on it).
      num_samples: samples per candidate (FID is biased upwards for few: the
        candidates are compared at one count, not with a reported FID).
      **fid_kwargs: `sample_fid`'s other arguments (`data_dir`, `seed`,
        `fid_cache_dir`, `max_examples`, ...).

    Returns:
      `{"temperature": best, "split", "num_fid_samples", "fid_at_temperature":
      {T: FID}}`; ties go to the first candidate. Candidates whose FID is not
      finite are never chosen; a `ValueError` if none is finite.
    """
    if split == "test":
        raise ValueError(
            "select_temperature got split='test': choose on 'validation' (held out of the "
            "training images) and report on 'test'."
        )
    candidates = check_temperatures(temperatures)
    fids = {
        t: sample_fid(model, dataset, split, num_samples=num_samples, temperature=t, **fid_kwargs)[
            "fid"
        ]
        for t in candidates
    }
    finite = [t for t in candidates if math.isfinite(fids[t])]
    if not finite:
        raise ValueError(f"No temperature gave a finite FID on '{split}': {fids}.")
    return {
        "temperature": min(finite, key=fids.get),
        "split": split,
        "num_fid_samples": int(num_samples),
        "fid_at_temperature": fids,
    }
