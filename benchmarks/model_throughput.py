"""Training throughput of the Glow and VAE baselines, and serving latency of their SavedModels.

For each model and preset on 28x28x1 images (MNIST's shape, from random uint8
images: throughput does not depend on the pixel values):
  - training images/s: `model.fit` steps (loss, gradients, Adam) after warm-up,
    graph mode, optionally with the XLA-compiled loss and gradients; for a
    two-phase model (`vae_flow_decoder`, `two_stage_vae`) each phase's, and over
    its schedule `1 / (f / r1 + (1 - f) / r2)` with `f = phase1_fraction`: an
    epoch's time is inversely proportional to it (the flow-decoder paper's
    Table 4 compares epoch times against Glow);
  - the exported SavedModel, loaded as TF Serving would (`tf.saved_model.load`):
    cold load time, and p50/p95 latency of `sample` (64 images) and of
    `log_prob` (64 images).

Usage:
  python -m benchmarks.model_throughput                       # glow, vae x small, default
  python -m benchmarks.model_throughput --models=vae --presets=small --xla
  python -m benchmarks.model_throughput --models=vae_flow_decoder,glow --presets=default \
      --image_shape=32,32,3 --config='{"glow": {"coupling": "additive"}}'

`--config` changes constructor arguments per model on top of each preset (the
flow-decoder paper's Table 4 times an additive Glow).
"""

import argparse
import json
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.environment import describe  # noqa: E402
from benchmarks.fvae_compare import model_overrides  # noqa: E402
from tfflows import export, models  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="glow,vae")
    p.add_argument("--presets", default="small,default")
    p.add_argument("--image_shape", default="28,28,1")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps after tracing")
    p.add_argument("--xla", action="store_true", help="XLA-compile loss and gradients")
    p.add_argument(
        "--config",
        default="{}",
        help='JSON of constructor arguments per model, e.g. \'{"glow": {"coupling": "additive"}}\'',
    )
    p.add_argument("--serving_batch", type=int, default=64)
    p.add_argument("--serving_calls", type=int, default=20)
    p.add_argument("--output", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)
    args.overrides = model_overrides(p, args.config)
    args.argv = None if argv is None else ["benchmarks/model_throughput.py", *argv]
    return args


def training_throughput(model, images, args):
    """Images/s of `fit` steps after `warmup` untimed ones (tracing included there)."""
    model.compile(keras.optimizers.Adam(1e-4), jit_compile=args.xla)
    batch = tf.data.Dataset.from_tensors(images).repeat()
    model.fit(batch, steps_per_epoch=args.warmup + 1, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(batch, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    return args.steps * images.shape[0] / (time.perf_counter() - start)


def percentiles(fn, calls):
    fn()  # the first call of a loaded signature builds its kernels
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.percentile(times, 50)), 1e3 * float(np.percentile(times, 95))


def serving_latency(model, images, args):
    with tempfile.TemporaryDirectory() as directory:
        export.export_saved_model(model, directory)
        start = time.perf_counter()
        loaded = tf.saved_model.load(directory)
        cold = time.perf_counter() - start
        sample, log_prob = loaded.signatures["sample"], loaded.signatures["log_prob"]
        n = args.serving_batch
        request = dict(
            num_samples=tf.constant(n), temperature=tf.constant(1.0), seed=tf.constant(1, tf.int64)
        )
        sample_p = percentiles(lambda: sample(**request)["images"].numpy(), args.serving_calls)
        batch = tf.constant(images[:n])
        log_prob_p = percentiles(
            lambda: log_prob(images=batch)["log_prob"].numpy(), args.serving_calls
        )
    return {
        "cold_load_s": cold,
        "sample_p50_ms": sample_p[0],
        "sample_p95_ms": sample_p[1],
        "log_prob_p50_ms": log_prob_p[0],
        "log_prob_p95_ms": log_prob_p[1],
    }


def main(argv=None):
    args = parse_args(argv)
    shape = tuple(int(d) for d in args.image_shape.split(","))
    rng = np.random.default_rng(0)
    images = rng.integers(
        0, 256, (max(args.batch_size, args.serving_batch),) + shape, dtype=np.uint8
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"TF {tf.__version__}, batch {args.batch_size}, XLA {args.xla}"
    )
    header = (
        f"{'model':<6} {'preset':<8} {'params':>10} {'train img/s':>12} {'load s':>7} "
        f"{'sample p50/p95 ms':>18} {'log_prob p50/p95 ms':>20}"
    )
    print(header)
    rows = []
    for name in args.models.split(","):
        for preset in args.presets.split(","):
            keras.utils.set_random_seed(0)
            model = models.get(name, shape, preset=preset, **args.overrides.get(name, {}))
            model.initialize(images[: args.batch_size])
            phases = {}
            f = getattr(model, "phase1_fraction", None)
            if f in (0.0, 1.0):  # one phase all along (a joint flow-decoder VAE: phase 2)
                model.set_phase(1 if f else 2)
            if f is not None and 0.0 < f < 1.0:  # each phase alone, then the schedule's
                for phase in (1, 2):
                    model.set_phase(phase)
                    rate = training_throughput(model, images[: args.batch_size], args)
                    phases[f"train_images_per_s_phase{phase}"] = rate
                phases["phase1_fraction"] = f
                throughput = 1.0 / (
                    f / phases["train_images_per_s_phase1"]
                    + (1.0 - f) / phases["train_images_per_s_phase2"]
                )
            else:
                throughput = training_throughput(model, images[: args.batch_size], args)
            serving = serving_latency(model, images, args)
            row = {
                "model": name,
                "preset": preset,
                "params": model.count_params(),
                "train_images_per_s": throughput,
                **phases,
                **serving,
            }
            rows.append(row)
            print(
                f"{name:<6} {preset:<8} {row['params']:>10,} {throughput:>12.1f} "
                f"{serving['cold_load_s']:>7.2f} "
                f"{serving['sample_p50_ms']:>8.1f}/{serving['sample_p95_ms']:<9.1f} "
                f"{serving['log_prob_p50_ms']:>9.1f}/{serving['log_prob_p95_ms']:<10.1f}",
                flush=True,
            )
    if args.output:
        with open(args.output, "w") as f:
            settings = {
                k: v for k, v in vars(args).items() if k not in ("overrides", "argv", "output")
            }
            json.dump(
                {"args": settings, "rows": rows, "environment": describe(args.argv)}, f, indent=2
            )
    return rows


if __name__ == "__main__":
    main()
