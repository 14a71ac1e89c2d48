"""Test bits/dim of tfflows' multi-scale Glow against TFP's `tfb.Glow` after equal training time.

Both flows have `flow_throughput.py`'s architecture (L levels of K steps of
actnorm -> 1x1 conv -> coupling with Glow's 3x3-1x1-3x3 network, a learned
prior at each split) at `--levels`, `--steps` and `--width`, and train with
the same Adam (`--learning_rate`), batch and uniformly dequantized images
`y = (x + u) / 256 - 0.5` of the `train` split. Training alternates between
the two, `--chunk_seconds` each, until each has trained `--minutes` (its
step time only: the clock stops between chunks), so load from elsewhere on
the machine falls on both alike. Then each is scored on the first
`--num_eval` images of `--eval_split` with the same dequantization noise:
bits/dim of the discrete images, exact for a flow up to the dequantization
bound, `-(log p(y) - D log 256) / (D log 2)` over all D pixels.

A model whose loss goes non-finite stops training there and is reported
`diverged` with its last finite figures.

Usage:
  python -m benchmarks.glow_vs_tfp --data_dir=/path/to/mnist --minutes=15 \
      --output=glow_mnist_tfflows-vs-tfb-glow_15min.json

The JSON has per model the steps, images/s, the training curve (mean loss
in bits/dim per chunk) and the test bits/dim, and the machine it ran on.
"""

import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.environment import describe  # noqa: E402
from benchmarks.flow_throughput import build_ours, build_tfp, count, make_step  # noqa: E402
from tfflows import data  # noqa: E402
from tfflows.data.dequantization import uniform_dequantize  # noqa: E402

__all__ = ["main", "parse_args"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", default=None, help="directory of the IDX .gz files")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--minutes", type=float, default=15.0, help="training time of each model")
    p.add_argument("--chunk_seconds", type=float, default=60.0, help="training turn length")
    p.add_argument("--levels", type=int, default=2)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--coupling", choices=["affine", "additive"], default="affine")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--xla", type=int, default=0, help="XLA-compiled loss and gradients (1/0)")
    p.add_argument("--eval_split", default="test", choices=("validation", "test"))
    p.add_argument("--num_eval", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None)
    args = p.parse_args(argv)
    args.argv = None if argv is None else ["benchmarks/glow_vs_tfp.py", *argv]
    return args


class Contestant:
    """One flow under training: its step, its clock and its curve."""

    def __init__(self, name, log_prob, variables, optimizer, args):
        self.name, self.log_prob = name, log_prob
        self.parameters = count(variables)
        self.step = make_step(log_prob, variables, optimizer, bool(args.xla))
        self.seconds, self.steps, self.curve, self.diverged = 0.0, 0, [], None
        self.trace_seconds = None

    def trace(self, batch):
        """The first step, off the clock: tracing (and XLA compiling) is not training time."""
        start = time.perf_counter()
        float(self.step(batch))
        self.steps, self.trace_seconds = 1, time.perf_counter() - start

    def train_for(self, seconds, batches, num_pixels):
        """Steps until `seconds` more of training have passed; one curve point (mean bits/dim).

        The loss is the mean NLL of `y` in nats; the discrete images' bits/dim
        is `(NLL + D log 256) / (D log 2)`.
        """
        losses, start = [], time.perf_counter()
        while time.perf_counter() - start < seconds:
            loss = float(self.step(next(batches)))  # float(): the step has finished
            self.steps += 1
            if not math.isfinite(loss):
                self.diverged = f"loss {loss} at step {self.steps}"
                break
            losses.append(loss)
        self.seconds += time.perf_counter() - start
        if losses:
            self.curve.append(
                {
                    "minutes": round(self.seconds / 60.0, 3),
                    "steps": self.steps,
                    "train_bits_per_dim": round(
                        (float(np.mean(losses)) / num_pixels + math.log(256.0)) / math.log(2.0), 4
                    ),
                }
            )


def dequantized_batches(args, split, batch_size, seed, repeat):
    images = data.load(
        args.dataset,
        split,
        data_dir=args.data_dir,
        batch_size=batch_size,
        shuffle=repeat,
        seed=args.seed,
        repeat=repeat,
        drop_remainder=repeat,
    )
    for i, batch in enumerate(images):
        yield uniform_dequantize(batch, seed=tf.constant([seed, i], tf.int64))


def bits_per_dim(contestant, args, num_pixels):
    """Mean discrete bits/dim of the first `--num_eval` images (noise seeded per batch)."""
    total, n = 0.0, 0
    for y in dequantized_batches(args, args.eval_split, 500, args.seed + 1, repeat=False):
        y = y[: args.num_eval - n]
        log_prob = contestant.log_prob(y).numpy().astype(np.float64)
        total += float(np.sum(log_prob - num_pixels * math.log(256.0)))
        n += len(log_prob)
        if n >= args.num_eval:
            break
    return -total / (n * num_pixels * math.log(2.0)), n


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    batches = dequantized_batches(args, "train", args.batch_size, args.seed, repeat=True)
    first = next(batches)
    height, width, channels = (int(d) for d in first.shape[1:])
    if height != width:
        raise SystemExit(f"{args.dataset}'s images are {height}x{width}: square ones only.")
    shape_args = argparse.Namespace(**vars(args), image_size=height, channels=channels)
    num_pixels = height * width * channels

    flow = build_ours(shape_args, first)
    glow, distribution, tfp_optimizer = build_tfp(shape_args)
    distribution.log_prob(first)  # builds its networks and initialises its actnorms
    contestants = [
        Contestant(
            "tfflows",
            flow.log_prob,
            flow.trainable_variables,
            keras.optimizers.Adam(args.learning_rate),
            args,
        ),
        Contestant(
            "tfb.Glow",
            distribution.log_prob,
            glow.trainable_variables,
            type(tfp_optimizer)(args.learning_rate),  # TFP's Keras 2 Adam, as it trains with
            args,
        ),
    ]
    for c in contestants:
        c.trace(next(batches))
    budget = 60.0 * args.minutes
    while any(c.seconds < budget and not c.diverged for c in contestants):
        for c in contestants:
            if c.seconds < budget and not c.diverged:
                c.train_for(min(args.chunk_seconds, budget - c.seconds), batches, num_pixels)
    rows = []
    for c in contestants:
        bpd, n = bits_per_dim(c, args, num_pixels)
        rows.append(
            {
                "model": c.name,
                "parameters": c.parameters,
                "train_steps": c.steps,
                "train_seconds": round(c.seconds, 1),
                "first_step_seconds": round(c.trace_seconds, 1),
                "train_images_per_second": round((c.steps - 1) * args.batch_size / c.seconds, 1),
                "curve": c.curve,
                "diverged": c.diverged,
                "bits_per_dim": round(bpd, 4),
                "num_eval": n,
            }
        )
        print(
            f"{c.name}: {c.steps} steps, {rows[-1]['train_images_per_second']} img/s, "
            f"{bpd:.4f} bits/dim on {n} {args.eval_split} images",
            flush=True,
        )
    result = {
        "measures": "test bits/dim (uniform dequantization, discrete images, all pixels) of "
        "tfflows' multi-scale Glow and tfb.Glow at one architecture after equal training time",
        "config": {
            key: getattr(args, key)
            for key in (
                "dataset",
                "minutes",
                "chunk_seconds",
                "levels",
                "steps",
                "width",
                "coupling",
                "batch_size",
                "learning_rate",
                "xla",
                "eval_split",
                "seed",
            )
        },
        "rows": rows,
        "environment": describe(args.argv),
    }
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=1)
    print(json.dumps({r["model"]: r["bits_per_dim"] for r in rows}))
    return result


if __name__ == "__main__":
    main()
