"""VFlow's toy experiment: a 3-step VFlow against 3- and 20-step flows on 2-D data.

The claim (VFlow slides, Chen et al. ICML 2020, "Toy Data"): on a 2-D data set a
3-step VFlow with 10 augmented dimensions reaches a test log-likelihood of
-3.51 nats per point, a 3-step Glow -3.66 and a 20-step Glow -3.52; the data's
own density gives -3.47.

Data: the checkerboard of FFJORD's toy data sets (Grathwohl et al., 2019):
uniform on 8 of the 16 squares of side 2 tiling [-4, 4]^2, so its density is
1/32 on its support and its log-likelihood -log 32 = -3.466 at every point,
the slides' -3.47 (which is why we take it to be their data; the slides do
not name it). Its sharp edges are what a few smooth coupling steps cannot fit.

Models (`tfflows.models.VectorVFlow`; `--models`, "flow-K" or "vflow-K"): a
step is Glow's, read for vectors (`layers.DenseGlow`): actnorm, an invertible
D x D matrix and an affine coupling whose network (`--num_hidden_layers`
hidden layers of `--hidden_units`) maps one half of the features to the
shift and log-scale of the other half. "flow-K" is K such steps over x in
R^2 (exact likelihood); "vflow-K" is K steps of the same width over (x, z) in
R^{2 + D_z} (`--augmented_dims`, 10 as in the slides) with q(z|x) a flow of
`--posterior_steps` steps of the same width conditioned on x, trained on the
ELBO. All models: the same training set, Adam with `--learning_rate` (cosine
decay to 0 with `--schedule=cosine`), `--steps` steps of `--batch_size`; one
run of each per seed of `--seeds` (the seed draws the training set of
`--num_train` points and the initial weights).

Reported per model, on `--num_eval` points of `--eval_split` (a validation
set to choose hyper-parameters, the test set to report; each drawn once,
independently of the training set): the mean log-likelihood per point (nats)
with its standard error, exact for the flows, for VFlow the importance-
weighted bound with `--num_importance_samples` samples (a lower bound, tight
as K grows) and the ELBO estimated with the same samples; parameters,
training and evaluation seconds. The data's own log-likelihood is -log 32 for
every point. Over the seeds: each model's mean and standard deviation.

With `--results_dir`, writes `vflow_toy2d_<steps>steps[-<tag>][_<split>].json`
(no split suffix for "test") and a PNG of the same name with the densities
side by side (the data's, then each model's of the first seed on a grid;
VFlow's from the IW bound with `--grid_importance_samples` samples).

Usage:
  python -m benchmarks.vflow_toy --steps=20000 --results_dir=benchmarks/results
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
from tfflows.models import VectorVFlow  # noqa: E402

DATASETS = ("checkerboard",)
#: The checkerboard's support: 8 squares of side 2, area 32.
CHECKERBOARD_LOG_DENSITY = -math.log(32.0)
PLOT_LIMIT = 4.5
SPLITS = {"train": 0, "validation": 1, "test": 2}


def checkerboard(num_points, rng):
    """FFJORD's checkerboard: uniform on [2i, 2i + 2) x [2j, 2j + 2) in [-4, 4)^2, i + j even."""
    x1 = rng.uniform(-2.0, 2.0, num_points)
    x2 = rng.uniform(0.0, 1.0, num_points) - 2.0 * rng.integers(0, 2, num_points)
    x2 = x2 + np.floor(x1) % 2
    return (2.0 * np.stack([x1, x2], axis=1)).astype(np.float32)


def checkerboard_log_density(x):
    """`log p(x)`: -log 32 on the support, -inf off it."""
    cells = np.floor(np.asarray(x) / 2.0)
    inside = np.all(np.abs(x) <= 4.0, axis=-1) & ((cells[:, 0] + cells[:, 1]) % 2 == 0)
    return np.where(inside, CHECKERBOARD_LOG_DENSITY, -np.inf)


def split_points(split, num_points, seed):
    """`num_points` of the data set for `split`; validation and test do not depend on `seed`."""
    stream = SPLITS[split]
    rng = np.random.default_rng([stream, seed if split == "train" else 0])
    return checkerboard(num_points, rng)


def parse_model(name):
    """`flow-K` or `vflow-K` to `(augmented?, K)`."""
    kind, _, steps = name.partition("-")
    if kind not in ("flow", "vflow") or not steps.isdigit() or int(steps) < 1:
        raise ValueError(f"models are 'flow-K' or 'vflow-K' (K >= 1 steps), got {name!r}.")
    return kind == "vflow", int(steps)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="checkerboard", choices=DATASETS)
    p.add_argument("--models", default="flow-3,vflow-3,flow-20")
    p.add_argument("--augmented_dims", type=int, default=10, help="D_z of the VFlow models")
    p.add_argument("--hidden_units", type=int, default=64, help="width of every coupling network")
    p.add_argument("--num_hidden_layers", type=int, default=2)
    p.add_argument("--scale_activation", default="atan", help="of the models' affine couplings")
    p.add_argument("--posterior_steps", type=int, default=None, help="q's steps (None: f's)")
    p.add_argument("--steps", type=int, default=20000, help="training steps of every model")
    p.add_argument("--log_every", type=int, default=1000, help="steps per logged mean loss")
    p.add_argument("--batch_size", type=int, default=256)
    p.add_argument("--learning_rate", type=float, default=3e-3)
    p.add_argument("--schedule", default="cosine", choices=("constant", "cosine"))
    p.add_argument("--clipnorm", type=float, default=None, help="gradient clipping (None: off)")
    p.add_argument("--num_train", type=int, default=100_000, help="training points")
    p.add_argument("--eval_split", default="test", choices=("validation", "test"))
    p.add_argument("--num_eval", type=int, default=10_000, help="points of the evaluation split")
    p.add_argument("--num_importance_samples", type=int, default=1000, help="K of VFlow's IW bound")
    p.add_argument("--grid_size", type=int, default=120, help="grid points per side of the plot")
    p.add_argument(
        "--grid_importance_samples", type=int, default=100, help="K of VFlow's plotted density"
    )
    p.add_argument("--jit_compile", type=int, default=1, help="XLA training and evaluation (1/0)")
    p.add_argument(
        "--seeds", default="0,1,2", help="comma-separated seeds: one run of every model per seed"
    )
    p.add_argument("--tag", default="", help="variant name in the result files' names")
    p.add_argument("--results_dir", default=None, help="JSON and PNG here")
    p.add_argument("--output", default=None, help="the JSON here too")
    args = p.parse_args(argv)
    try:
        for name in args.models.split(","):
            parse_model(name)
        args.seed_list = [int(seed) for seed in args.seeds.split(",")]
    except ValueError as error:
        p.error(str(error))
    if args.steps > args.log_every and args.steps % args.log_every:
        p.error(f"--steps ({args.steps}) must be a multiple of --log_every ({args.log_every})")
    args.argv = None if argv is None else ["benchmarks/vflow_toy.py", *argv]
    return args


def result_name(args):
    tag = f"-{args.tag}" if args.tag else ""
    suffix = "" if args.eval_split == "test" else f"_{args.eval_split}"
    return f"vflow_toy2d_{args.steps}steps{tag}{suffix}"


def build(name, args, seed):
    augmented, steps = parse_model(name)
    keras.utils.set_random_seed(seed)
    return VectorVFlow(
        event_size=2,
        augmented_dims=args.augmented_dims if augmented else 0,
        num_steps=steps,
        hidden_units=args.hidden_units,
        num_hidden_layers=args.num_hidden_layers,
        scale_activation=args.scale_activation,
        posterior_steps=args.posterior_steps,
        seed=seed,
        name=name.replace("-", "_"),
    )


def bounds_fn(model, num_samples, jit_compile):
    """A traced `x, seed -> model.bounds(x, K, seed)`: VFlow's ELBO and IW_K, a flow's log p."""
    return tf.function(
        lambda x, seed: model.bounds(x, num_samples, seed=seed),
        jit_compile=bool(jit_compile),
        reduce_retracing=True,
    )


def batched(fn, points, seed, batch_size=1000):
    """`fn` over batches of `points` (batch i seeded `seed + i`), its dict's values joined."""
    outs = [
        fn(tf.constant(points[i : i + batch_size]), tf.constant(seed + i, tf.int64))
        for i in range(0, len(points), batch_size)
    ]
    return {key: np.concatenate([out[key].numpy() for out in outs]) for key in outs[0]}


def summary(values):
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def run_model(name, args, seed, eval_points, grid):
    """Trains model `name` with `seed` (its training set and initialisation); its row."""
    train = split_points("train", args.num_train, seed)
    model = build(name, args, seed)
    model.initialize(train[: args.batch_size * 4])
    learning_rate = args.learning_rate
    if args.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(args.learning_rate, args.steps)
    model.compile(
        keras.optimizers.Adam(learning_rate, clipnorm=args.clipnorm),
        jit_compile=bool(args.jit_compile),
    )
    dataset = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(train), seed=seed)
        .repeat()
        .batch(args.batch_size, drop_remainder=True)
    )
    # "Epochs" of `--log_every` steps, one iterator throughout: the mean loss of each logged.
    per_epoch = min(args.log_every, args.steps)
    start = time.perf_counter()
    history = model.fit(
        dataset, steps_per_epoch=per_epoch, epochs=args.steps // per_epoch, verbose=0
    )
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    augmented = model.augmented_dims > 0
    k = args.num_importance_samples if augmented else 1
    eval_fn = bounds_fn(model, k, args.jit_compile)
    bounds = batched(eval_fn, eval_points, seed)
    row = {
        "model": name,
        "seed": seed,
        "num_steps": model.num_steps,
        "augmented_dims": model.augmented_dims,
        "parameters": int(model.count_params()),
        "config": model.get_config(),
        "train_seconds": round(train_seconds, 1),
        "train_loss": [float(loss) for loss in history.history["loss"]],
        "likelihood": f"iw (K={k})" if augmented else "exact",
        "num_importance_samples": k if augmented else None,
    }
    row["log_likelihood"], row["log_likelihood_se"] = summary(bounds["iw"])
    row["nonfinite"] = int(np.sum(~np.isfinite(bounds["iw"])))
    if augmented:  # the ELBO estimated with the same K draws
        row["elbo"], row["elbo_se"] = summary(bounds["elbo"])
        row["iw_minus_elbo"], row["iw_minus_elbo_se"] = summary(bounds["iw"] - bounds["elbo"])
    row["eval_seconds"] = round(time.perf_counter() - start, 1)
    density = None
    if grid is not None:
        grid_k = args.grid_importance_samples if augmented else 1
        grid_fn = eval_fn if grid_k == k else bounds_fn(model, grid_k, args.jit_compile)
        density = batched(grid_fn, grid, seed)["iw"]
        row["grid_importance_samples"] = grid_k if augmented else None
    return row, density


def grid_points(size):
    axis = np.linspace(-PLOT_LIMIT, PLOT_LIMIT, size, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def title_of(row):
    augmented, steps = parse_model(row["model"])
    if augmented:
        kind = f"{steps}-step VFlow, D_z = {row['augmented_dims']}"
    else:
        kind = f"{steps}-step flow"
    return f"{kind} ({row['log_likelihood']:.2f})"


def plot_densities(path, size, data_log_likelihood, rows, log_densities, split):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = [(f"Data ({data_log_likelihood:.2f})", checkerboard_log_density(grid_points(size)))]
    panels += [(title_of(row), log_density) for row, log_density in zip(rows, log_densities)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.4))
    # One colour scale: 0 to twice the data's density (brighter is clipped).
    vmax = 2.0 * math.exp(CHECKERBOARD_LOG_DENSITY)
    for ax, (title, log_density) in zip(np.atleast_1d(axes), panels):
        density = np.exp(np.nan_to_num(log_density, nan=-np.inf)).reshape(size, size)
        extent = (-PLOT_LIMIT, PLOT_LIMIT, -PLOT_LIMIT, PLOT_LIMIT)
        ax.imshow(
            density,
            origin="lower",
            extent=extent,
            cmap="magma",
            vmin=0.0,
            vmax=vmax,
            interpolation="nearest",
        )
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"Densities on [-4.5, 4.5]^2 (colour 0 to 2/32), {split} log-likelihood per point in "
        "brackets (VFlow: IW bound)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def summarize(rows, names):
    """Per model, over the seeds: each seed's log-likelihood (and ELBO), their mean and std."""
    out = []
    for name in names:
        own = [row for row in rows if row["model"] == name]
        summary = {
            "model": name,
            "seeds": [row["seed"] for row in own],
            "parameters": own[0]["parameters"],
            "likelihood": own[0]["likelihood"],
            "train_seconds_mean": float(np.mean([row["train_seconds"] for row in own])),
        }
        for key in ("log_likelihood", "elbo"):
            if key in own[0]:
                values = [row[key] for row in own]
                summary[key] = values
                summary[f"{key}_mean"] = float(np.mean(values))
                summary[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        out.append(summary)
    return out


def main(argv=None):
    args = parse_args(argv)
    eval_points = split_points(args.eval_split, args.num_eval, 0)
    data_log_likelihood = float(np.mean(checkerboard_log_density(eval_points)))
    grid = grid_points(args.grid_size) if args.results_dir else None
    names = args.models.split(",")
    rows, densities = [], []
    for seed in args.seed_list:
        plot_grid = grid if seed == args.seed_list[0] else None  # the first seed's models
        for name in names:
            row, density = run_model(name, args, seed, eval_points, plot_grid)
            rows.append(row)
            if density is not None:
                densities.append(density)
            print(json.dumps({k: v for k, v in row.items() if k != "config"}), flush=True)
    out = {
        "paper": "vflow",
        "dataset": args.dataset,
        "eval_split": args.eval_split,
        "num_train": args.num_train,
        "num_eval": args.num_eval,
        "data_log_likelihood": data_log_likelihood,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "schedule": args.schedule,
        "clipnorm": args.clipnorm,
        "seeds": args.seed_list,
        "results": rows,
        "summary": summarize(rows, names),
        "density_plot": None,
        "density_plot_seed": args.seed_list[0],
        "environment": describe(args.argv),
    }
    if args.results_dir:
        os.makedirs(args.results_dir, exist_ok=True)
        out["density_plot"] = result_name(args) + ".png"
        plot_densities(
            os.path.join(args.results_dir, out["density_plot"]),
            args.grid_size,
            data_log_likelihood,
            rows[: len(names)],
            densities,
            args.eval_split,
        )
        write_json(os.path.join(args.results_dir, result_name(args) + ".json"), out)
    if args.output:
        write_json(args.output, out)
    print(f"data: {data_log_likelihood:.3f} nats per point ({args.eval_split})")
    for row in rows:
        elbo = f", ELBO {row['elbo']:.3f}" if "elbo" in row else ""
        print(
            f"{row['model']:9s} seed {row['seed']}: {row['log_likelihood']:.3f} +- "
            f"{row['log_likelihood_se']:.3f} ({row['likelihood']}{elbo}), "
            f"{row['parameters']:,} parameters, {row['train_seconds']} s training"
        )
    for summary in out["summary"]:
        print(
            f"{summary['model']:9s} mean over seeds {summary['log_likelihood_mean']:.3f} "
            f"(std {summary['log_likelihood_std']:.3f})"
        )


def write_json(path, value):
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
