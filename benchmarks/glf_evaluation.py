"""How the GLF benchmarks score a model: sampling protocols, FID draws, reconstruction MSE.

Shared by `glf_mnist.py` and `glf_latent_flow.py`, so both score the same
weights identically (their tests check it).

  - FID between `--num_fid_samples` samples (temperature `--temperature`) and
    real-image Inception statistics, with the standard Inception
    (`tfflows.metrics.frechet_inception_distance`); 10k samples vs the 10k
    test images is GLF's Table 1 protocol;
  - `PROTOCOLS` names how samples are drawn (see `glf_mnist.py`'s docstring);
    `fid_draws` scores independent draws, draw k with sample seed
    `seed + DRAW_SEED_STRIDE k`, and reports their mean and sample std as
    Table 1's "mean and standard deviation of 10 trials" does;
  - reconstruction MSE per pixel, `mean((G(E(x)) - x/255)^2)` (the scale of
    the authors' `ToTensor` images).
"""

import time

import numpy as np

from tfflows import data
from tfflows.metrics import frechet_inception_distance
from tfflows.visualization import to_uint8

__all__ = [
    "DRAW_SEED_STRIDE",
    "PROTOCOLS",
    "add_fid_arguments",
    "draw_seeds",
    "evaluate",
    "fid_draws",
    "reconstruction_mse",
    "samples_uint8",
    "test_arrays",
]

# Sample seeds of successive FID draws lie this far apart: draw 0 keeps the seed
# earlier results were scored with, and runs of --seed below 1000 share no draw.
DRAW_SEED_STRIDE = 1000
# Sampling protocol: (batch norms with each batch's statistics, per-image min-max stretch).
PROTOCOLS = {
    "standard": (False, False),
    "batch_statistics": (True, False),
    "minmax": (False, True),
    "reference": (True, True),
}


def add_fid_arguments(p, num_fid_samples):
    """The flags `fid_draws` reads (`glf_mnist.py`'s and `glf_latent_flow.py`'s)."""
    p.add_argument("--num_fid_samples", type=int, default=num_fid_samples)
    p.add_argument("--num_fid_real", type=int, default=10000, help="test images for FID")
    p.add_argument("--fid_batch_size", type=int, default=100)
    p.add_argument(
        "--fid_method",
        choices=("sqrtm", "eigh"),
        default="sqrtm",
        help="FID's matrix square root: sqrtm as TTUR, or the faster eigh (equal up to rounding)",
    )
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--sample_batch_size", type=int, default=500)
    p.add_argument(
        "--fid_draws",
        type=int,
        default=1,
        help="score this many independent sample draws per protocol (Table 1: 10 trials); "
        f"draw k uses sample seed --seed + {DRAW_SEED_STRIDE} k, draw 0 is the reported FID",
    )


def test_arrays(data_dir, count=None, dataset="mnist"):
    """The first `count` (None: all) test images of `dataset` as uint8 `[N, H, W, C]`."""
    images = data.load(dataset, "test", data_dir=data_dir, batch_size=1000, prefetch=False)
    images = np.concatenate([batch.numpy() for batch in images])
    return images if count is None else images[:count]


def reconstruction_mse(model, images, batch_size=500):
    errors = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        rebuilt = model.decode(model.encode(batch)).numpy()
        errors.append(np.mean(np.square(rebuilt - batch / 255.0), axis=(1, 2, 3)))
    return float(np.mean(np.concatenate(errors)))


def samples_uint8(model, count, temperature, protocol="standard", batch_size=500, seed=0):
    batch_statistics, minmax = PROTOCOLS[protocol]
    batches = []
    for i, start in enumerate(range(0, count, batch_size)):
        n = min(batch_size, count - start)
        kwargs = {"batch_statistics": True} if batch_statistics else {}
        images = model.sample(n, temperature, seed=seed * 1_000_003 + i, **kwargs).numpy()
        if minmax:
            low = images.min(axis=(1, 2, 3), keepdims=True)
            high = images.max(axis=(1, 2, 3), keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                images = (images - low) / (high - low)  # a flat image: NaN, black
        batches.append(to_uint8(images, value_range=(0.0, 1.0)))
    return np.concatenate(batches)


def fid_draws(model, real_statistics, protocol, seeds, args):
    """FIDs of one sample draw per seed (`samples_uint8`'s), their mean and sample std."""
    values = [
        frechet_inception_distance(
            real_statistics,
            samples_uint8(
                model,
                args.num_fid_samples,
                args.temperature,
                protocol,
                batch_size=args.sample_batch_size,
                seed=seed,
            ),
            batch_size=args.fid_batch_size,
            verbose=False,
            method=args.fid_method,
        )
        for seed in seeds
    ]
    return {
        "seeds": list(seeds),
        "values": values,
        "mean": float(np.mean(values)),
        # Sample standard deviation (ddof=1), the spread the paper's "8.2 +- 0.1" reports.
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
    }


def draw_seeds(seed, count):
    return [seed + DRAW_SEED_STRIDE * k for k in range(count)]


def evaluate(model, test, real_statistics, args):
    """FID per sampling protocol (samples vs `real_statistics`) and test reconstruction MSE."""
    start = time.perf_counter()
    mse = reconstruction_mse(model, test[: args.num_mse_images])
    result = {"test_reconstruction_mse_per_pixel": mse}
    seeds = draw_seeds(args.seed, args.fid_draws)
    draws = {
        protocol: fid_draws(model, real_statistics, protocol, seeds, args)
        for protocol in args.protocols.split(",")
    }
    fids = {protocol: draw["values"][0] for protocol, draw in draws.items()}
    if "standard" in fids:
        result["fid"] = fids["standard"]
    result["fid_by_protocol"] = fids
    if args.fid_draws > 1:
        result["fid_draws"] = draws
    result["evaluation_seconds"] = round(time.perf_counter() - start, 1)
    return result
