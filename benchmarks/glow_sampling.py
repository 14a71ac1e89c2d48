"""Glow's sampling orientation against this library's: non-finite samples and bits/dim.

Glow's code divides `x_b` by `sigmoid(h + 2)` when sampling and scales its
split priors by an unbounded `exp`; `tfflows` multiplies by `sigmoid(h + 2)`
(floored at `e^-3`, the "contracting" scale) and caps the priors at `e^5`
(see `tfflows.layers.MultiScaleFlow`). For each variant and seed this trains
the small Glow preset on 28x28 MNIST (the 55,000 `train` images, no padding,
2 levels) for `--steps` steps of `--batch_size` at `--learning_rate`, then
reports:

  - `test_bits_per_dim`: the exact (uniformly dequantized) bits/dim over the
    784 pixels of the first `--num_eval` test images (no model selection, so
    no validation split is involved);
  - `nonfinite_samples`: images with a NaN or infinite pixel among
    `--num_samples` drawn at each temperature;
  - `train_seconds` on this machine (recorded in `environment`); a rough
    figure, not a speed comparison (the variants cost the same per step).

Usage:
  python -m benchmarks.glow_sampling --data_dir=/path/to/mnist --steps=600 \
      --output=benchmarks/results/glow_mnist_glow-orientation_600steps.json
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.environment import describe  # noqa: E402
from tfflows import data, models  # noqa: E402
from tfflows.metrics import count_nonfinite_images  # noqa: E402

VARIANTS = {
    "glow_code": dict(scale_activation="sigmoid", prior_scale_activation="exp"),
    "tfflows": dict(scale_activation="contracting", prior_scale_activation="capped_exp"),
}


def run(variant, seed, args):
    train = data.load(
        "mnist",
        "train",
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        shuffle=True,
        seed=seed,
        drop_remainder=True,
    )
    keras.utils.set_random_seed(seed)
    model = models.get("glow", (28, 28, 1), preset="small", **VARIANTS[variant])
    model.initialize(next(iter(train)))
    model.compile(model.make_optimizer(args.learning_rate))
    start = time.perf_counter()
    history = model.fit(train.repeat().take(args.steps), epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    test = data.load("mnist", "test", data_dir=args.data_dir, batch_size=500)
    test = test.unbatch().take(args.num_eval).batch(500)
    bits = np.concatenate([model.bits_per_dim(batch, seed=0).numpy() for batch in test])
    nonfinite = {
        str(t): count_nonfinite_images(model.sample(args.num_samples, temperature=t, seed=seed))
        for t in args.temperatures
    }
    result = {
        "variant": variant,
        "seed": seed,
        "train_seconds": round(seconds, 1),
        "train_loss_epoch_mean_bits_per_dim": float(history.history["loss"][-1]),
        "test_bits_per_dim": float(bits.mean()),
        "test_bits_per_dim_finite": bool(np.isfinite(bits).all()),
        "nonfinite_samples": nonfinite,
    }
    print(json.dumps(result), flush=True)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_dir", required=True, help="Directory of the MNIST IDX .gz files.")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=5e-4)
    p.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=[0, 1])
    p.add_argument("--variants", type=lambda s: s.split(","), default=list(VARIANTS))
    p.add_argument("--num_eval", type=int, default=10000, help="Test images for bits/dim.")
    p.add_argument("--num_samples", type=int, default=1000)
    p.add_argument(
        "--temperatures", type=lambda s: [float(v) for v in s.split(",")], default=[1.0, 0.7]
    )
    p.add_argument("--output", default=None, help="Where to write the JSON result.")
    args = p.parse_args()
    runs = [run(variant, seed, args) for seed in args.seeds for variant in args.variants]
    result = {
        "measures": "non-finite samples and test bits/dim of Glow's sampling orientation "
        "against tfflows'",
        "dataset": "mnist 28x28, train (55,000) / first num_eval test images",
        "model": "glow, preset small (2 levels, 4 steps, 64 hidden units)",
        "budget": {
            "steps": args.steps,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
        },
        "bits_per_dim": "exact, uniformly dequantized, over the 784 pixels",
        "num_eval": args.num_eval,
        "num_samples": args.num_samples,
        "variants": VARIANTS,
        "runs": runs,
        "environment": describe(),
    }
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
