"""Training throughput of tfflows' multi-scale flow against TFP's `tfb.Glow`.

One training step = mean NLL of a batch of uniform inputs in [-0.5, 0.5],
its gradients and an Adam update. Both models have the same architecture:
L levels (TFP: "blocks") of K steps of actnorm -> LU 1x1 conv -> coupling
with Glow's conv network (3x3 relu, 1x1 relu, zero-init 3x3) and a split
with a learned prior (a zero-init 3x3 conv) between levels. Each model is
timed in graph mode and with XLA (`tf.function(jit_compile=True)` around
loss and gradients, the optimizer applied outside it, the pattern that also
works under `tf.distribute`).

Usage:
  python -m benchmarks.flow_throughput                 # the defaults below
  python -m benchmarks.flow_throughput --xla off --skip_tfp --iters 20

The last line printed is `ratio_vs_tfp=<ours best / TFP best>` (images/s);
`--output` also writes the result as JSON, with the machine and versions.

The machine's peak (a 2048^2 fp32 matmul and a 3x3 convolution) is measured
before and after the models, each time in two child processes, one with
oneDNN's kernels (`TF_ENABLE_ONEDNN_OPTS=1`) and one with TensorFlow's Eigen
kernels (`=0`), since the setting is read once at import: the utilisation is
against the best of all, and the JSON says which library gave it.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.environment import describe  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image_size", type=int, default=32)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--levels", type=int, default=3)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--warmup", type=int, default=3, help="untimed steps after tracing")
    p.add_argument("--iters", type=int, default=10, help="timed steps per repeat")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats (median reported)")
    p.add_argument("--coupling", choices=["affine", "additive"], default="affine")
    p.add_argument("--xla", choices=["both", "on", "off"], default="both")
    p.add_argument("--skip_tfp", action="store_true")
    p.add_argument("--skip_peak", action="store_true")
    p.add_argument("--peak_repeats", type=int, default=5, help="timed repeats of each peak")
    # The child mode of `measure_peaks_per_library`: print this process's peaks as JSON.
    p.add_argument("--peaks_only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="write the result JSON here")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- cost model


def flow_macs_per_image(image_size, channels, levels, steps, width, coupling="affine"):
    """Multiply-adds of one forward pass of `MultiScaleFlow`'s convolutions, per image.

    Per step at a level of `h x w x c`: the coupling network (3x3 conv c/2 ->
    width, 1x1 conv width -> width, 3x3 conv width -> c (affine) or c/2
    (additive)) and the 1x1 invertible conv (a c x c matmul per position);
    per split the learned prior (3x3 conv c/2 -> c). Elementwise work is
    not counted.
    """
    h = w = image_size
    c = channels
    total = 0
    for level in range(levels):
        h, w, c = h // 2, w // 2, c * 4
        hw = h * w
        a = c // 2
        b = c - a
        out = 2 * b if coupling == "affine" else b
        per_step = hw * (9 * a * width + width * width + 9 * width * out + c * c)
        total += steps * per_step
        if level < levels - 1:
            total += hw * 9 * a * (2 * (c - a))
            c = a
    return total


# ----------------------------------------------------------------------------- timing


def time_interleaved(steps, batch, warmup, iters, repeats):
    """Times `steps` (a list of functions of the batch), interleaved.

    Each is traced (first call, timed separately) and warmed up; then every
    repeat times `iters` steps of each in turn, so that load from other
    processes on the machine hits all of them alike. Returns, per step,
    (first call seconds, list of images/s).
    """
    n = int(batch.shape[0])
    firsts = []
    for step in steps:
        t0 = time.perf_counter()
        loss = step(batch)
        loss.numpy()
        firsts.append(time.perf_counter() - t0)
        for _ in range(warmup):
            loss = step(batch)
        loss.numpy()
    rates = [[] for _ in steps]
    for _ in range(repeats):
        for i, step in enumerate(steps):
            t0 = time.perf_counter()
            for _ in range(iters):
                loss = step(batch)
            loss.numpy()
            rates[i].append(n * iters / (time.perf_counter() - t0))
    return list(zip(firsts, rates))


def measure_peaks(repeats=5):
    """Best GFLOP/s of a 2048^2 fp32 matmul and a 3x3 conv 64->64, 32x32, batch 64."""
    a = tf.random.normal([2048, 2048])
    b = tf.random.normal([2048, 2048])
    x = tf.random.normal([64, 32, 32, 64])
    k = tf.random.normal([3, 3, 64, 64])
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    conv = tf.function(lambda x, k: tf.reduce_sum(tf.nn.conv2d(x, k, 1, "SAME")))

    def best(fn, args, flops, n):
        fn(*args).numpy()
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(n):
                r = fn(*args)
            r.numpy()
            out.append(flops * n / (time.perf_counter() - t0) / 1e9)
        return max(out)

    return (
        best(matmul, (a, b), 2 * 2048**3, 5),
        best(conv, (x, k), 2 * 64 * 32 * 32 * 9 * 64 * 64, 5),
    )


KERNEL_LIBRARIES = {"onednn": "1", "eigen": "0"}  # TF_ENABLE_ONEDNN_OPTS of each


def measure_peaks_per_library(repeats=5):
    """`{library: {"matmul": GFLOP/s, "conv": GFLOP/s}}`, each in a child process.

    TensorFlow reads `TF_ENABLE_ONEDNN_OPTS` once, at import, so each kernel
    library gets a fresh process.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    peaks = {}
    for library, flag in KERNEL_LIBRARIES.items():
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=flag, TF_CPP_MIN_LOG_LEVEL="2")
        command = [sys.executable, "-m", "benchmarks.flow_throughput", "--peaks_only"]
        command.append(f"--peak_repeats={repeats}")
        run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        if run.returncode:
            raise RuntimeError(f"the {library} peak failed: {run.stderr[-2000:]}")
        peaks[library] = json.loads(run.stdout.strip().splitlines()[-1])
    return peaks


def best_peaks(*measurements):
    """The best matmul and conv GFLOP/s over `measure_peaks_per_library` results, per library.

    Returns `(matmul, conv, library of the best matmul, {library: {"matmul", "conv"}})`.
    """
    by_library = {
        library: {kind: max(m[library][kind] for m in measurements) for kind in ("matmul", "conv")}
        for library in measurements[0]
    }
    library = max(by_library, key=lambda name: by_library[name]["matmul"])
    conv = max(p["conv"] for p in by_library.values())
    return by_library[library]["matmul"], conv, library, by_library


# ----------------------------------------------------------------------------- models


def make_batch(args):
    rng = np.random.default_rng(args.seed)
    shape = (args.batch_size, args.image_size, args.image_size, args.channels)
    return tf.constant(rng.uniform(-0.5, 0.5, size=shape).astype(np.float32))


def build_ours(args, batch):
    from tfflows.layers import MultiScaleFlow

    keras.utils.set_random_seed(args.seed)
    flow = MultiScaleFlow(
        (args.image_size, args.image_size, args.channels),
        num_levels=args.levels,
        num_steps=args.steps,
        hidden_units=args.width,
        coupling=args.coupling,
        seed=args.seed,
    )
    flow.initialize(batch)
    return flow


def make_step(log_prob, variables, optimizer, xla):
    """A training step: mean NLL, gradients (XLA-compiled if asked) and the update."""
    optimizer.build(variables)

    def loss_and_grads(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(log_prob(x))
        return loss, tape.gradient(loss, variables)

    if xla:
        loss_and_grads = tf.function(loss_and_grads, jit_compile=True)

    @tf.function(jit_compile=False)
    def step(x):
        loss, grads = loss_and_grads(x)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step


def ours_step(flow, xla):
    return make_step(flow.log_prob, flow.trainable_variables, keras.optimizers.Adam(1e-4), xla)


def build_tfp(args):
    import tensorflow_probability as tfp
    import tf_keras

    tfb, tfd = tfp.bijectors, tfp.distributions
    tf.random.set_seed(args.seed)
    shape = (args.image_size, args.image_size, args.channels)

    def coupling_fn(input_shape):
        return tfb.GlowDefaultNetwork(input_shape, num_hidden=args.width, kernel_shape=3)

    glow = tfb.Glow(
        output_shape=shape,
        num_glow_blocks=args.levels,
        num_steps_per_block=args.steps,
        coupling_bijector_fn=coupling_fn,
        exit_bijector_fn=tfb.GlowDefaultExitNetwork,
        seed=args.seed,
    )
    z_shape = glow.inverse_event_shape(shape)
    dist = tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), z_shape), glow)
    return glow, dist, tf_keras.optimizers.Adam(1e-4)


def tfp_step(glow, dist, optimizer, xla, batch):
    # Create the variables (the networks build lazily, actnorm initialises
    # from this batch) before the optimizer's slots, outside any function.
    dist.log_prob(batch)
    return make_step(dist.log_prob, glow.trainable_variables, optimizer, xla)


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


# ----------------------------------------------------------------------------- main


def main(argv=None):
    args = parse_args(argv)
    if args.peaks_only:
        matmul, conv = measure_peaks(args.peak_repeats)
        print(json.dumps({"matmul": matmul, "conv": conv}))
        return
    modes = {"both": [False, True], "on": [True], "off": [False]}[args.xla]
    batch = make_batch(args)
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    print(
        f"machine: {os.cpu_count()} cores, {cpu}, {platform.python_version()}, "
        f"TF {tf.__version__}, Keras {keras.__version__}"
    )
    print(
        f"config: {args.image_size}x{args.image_size}x{args.channels}, {args.levels} levels x "
        f"{args.steps} steps, width {args.width}, batch {args.batch_size}, {args.coupling} "
        f"coupling; {args.warmup} warm-up, {args.repeats} x {args.iters} timed steps"
    )
    # Peaks before and after the models (best of both): the machine is shared.
    peaks_before = None if args.skip_peak else measure_peaks_per_library(args.peak_repeats)
    configs = []  # (model, xla, params, step)
    flow = build_ours(args, batch)
    ours_params = count(flow.trainable_variables)
    for xla in modes:
        configs.append(("tfflows", xla, ours_params, ours_step(flow, xla)))
    if not args.skip_tfp:
        for xla in modes:
            glow, dist, opt = build_tfp(args)
            step = tfp_step(glow, dist, opt, xla, batch)
            configs.append(("tfb.Glow", xla, count(glow.trainable_variables), step))
    results = time_interleaved(
        [c[3] for c in configs], batch, args.warmup, args.iters, args.repeats
    )
    rows = []  # (model, xla, params, first_s, median, best)
    repeats = []  # images/s of each timed repeat, per row
    for (model, xla, params, _), (first, rates) in zip(configs, results):
        rows.append((model, xla, params, first, statistics.median(rates), max(rates)))
        repeats.append(list(rates))
        print(f"  {model} xla={'on' if xla else 'off'}: {[round(r, 1) for r in rates]} images/s")

    macs = flow_macs_per_image(
        args.image_size, args.channels, args.levels, args.steps, args.width, args.coupling
    )
    flops_per_image = 2 * 3 * macs  # 2 FLOPs per MAC, x3 for forward + backward
    peaks = None
    if not args.skip_peak:
        peaks = best_peaks(peaks_before, measure_peaks_per_library(args.peak_repeats))

    print()
    print(
        f"conv MACs per image (forward, ours): {macs / 1e6:.1f} M; "
        f"training FLOPs per image (x2 x3): {flops_per_image / 1e9:.3f} G"
    )
    if peaks:
        print(
            f"measured peak: matmul 2048^2 {peaks[0]:.0f} GFLOP/s ({peaks[2]}; "
            + ", ".join(f"{k} {v['matmul']:.0f}" for k, v in peaks[3].items())
            + f"), conv3x3 64->64 32x32 b64 {peaks[1]:.0f} GFLOP/s"
        )
    header = (
        f"{'model':<9} {'xla':<4} {'params':>9} {'first step s':>12} "
        f"{'median img/s':>12} {'best img/s':>10} {'GFLOP/s':>8}"
    )
    if peaks:
        header += f" {'of matmul':>9} {'of conv':>8}"
    print(header)
    for model, xla, params, first, median, best in rows:
        line = (
            f"{model:<9} {'on' if xla else 'off':<4} {params:>9,d} {first:>12.1f} "
            f"{median:>12.1f} {best:>10.1f}"
        )
        if model == "tfflows":
            gflops = median * flops_per_image / 1e9
            line += f" {gflops:>8.1f}"
            if peaks:
                line += f" {gflops / peaks[0]:>9.0%} {gflops / peaks[1]:>8.0%}"
        print(line)
    ours = max(r[4] for r in rows if r[0] == "tfflows")
    theirs = [r[4] for r in rows if r[0] == "tfb.Glow"]
    print(f"ours_best_images_per_s={ours:.1f}")
    if args.output:
        with open(args.output, "w") as f:
            json.dump(summary(args, rows, repeats, flops_per_image, peaks), f, indent=1)
    if theirs:
        print(f"tfp_best_images_per_s={max(theirs):.1f}")
        print(f"ratio_vs_tfp={ours / max(theirs):.2f}")
    else:
        print("ratio_vs_tfp=nan")


def summary(args, rows, repeats, flops_per_image, peaks, argv=None):
    """The result JSON: configuration, images/s per repeat and row, the ratio, the machine."""
    ours = max(r[4] for r in rows if r[0] == "tfflows")
    theirs = [r[4] for r in rows if r[0] == "tfb.Glow"]
    keys = ("image_size", "channels", "levels", "steps", "width", "batch_size", "coupling")
    return {
        "measures": "training images/s of tfflows' multi-scale Glow against tfb.Glow at the "
        "same architecture (mean NLL of uniform inputs, gradients, Adam)",
        "config": {
            **{key: getattr(args, key) for key in keys},
            "warmup": args.warmup,
            "iters": args.iters,
            "repeats": args.repeats,
        },
        "rows": [
            {
                "model": model,
                "xla": xla,
                "parameters": params,
                "first_step_seconds": round(first, 1),
                "images_per_second": [round(r, 1) for r in rates],
                "median_images_per_second": round(median, 1),
            }
            for (model, xla, params, first, median, _), rates in zip(rows, repeats)
        ],
        "ours_best_images_per_second": round(ours, 1),
        "tfp_best_images_per_second": round(max(theirs), 1) if theirs else None,
        "ratio_vs_tfp": round(ours / max(theirs), 2) if theirs else None,
        "training_gflop_per_image": round(flops_per_image / 1e9, 3),
        "measured_peak_gflops": (
            {
                "matmul_2048": round(peaks[0]),
                "conv3x3_64_64_32x32_b64": round(peaks[1]),
                "matmul_2048_library": peaks[2],
                "by_kernel_library": {
                    library: {kind: round(value) for kind, value in values.items()}
                    for library, values in peaks[3].items()
                },
            }
            if peaks
            else None
        ),
        # The models' kernels: oneDNN unless the variable says "0" (TensorFlow's x86 default).
        "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "environment": describe(argv),
    }


if __name__ == "__main__":
    main()
