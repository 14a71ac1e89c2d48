"""f-VAE, VFlow and the flow-decoder VAE against Glow and the VAE at equal time and size.

The f-VAE paper's claim (Su & Wu 2018, Results): f-VAE is sharper than a VAE,
and lighter and faster than Glow at equal quality. VFlow's (Chen et al. 2020,
"Image Density Modeling" slide): augmenting the image with extra channels
lowers bits/dim against a flow of the same steps and widths, or matches it
with fewer parameters (`--models=vflow,glow`). The VAE with a flow decoder
(`--paper=vae_flow_decoder --models=vae_flow_decoder,glow`): competitive with
Glow at less training, and its Glow layer sharpens the VAE's samples (Figure
4; Dai & Wipf's `two_stage_vae` is Table 1's alternative to its flow prior).
Two-phase models spend their `phase1_fraction` of the minutes in phase 1
(`benchmarks.time_budget.TimedPhaseSwitch`). Each model in `--models` is
trained on the training images of `--dataset` (MNIST or Fashion-MNIST IDX
files from `--data_dir`) for `--minutes` of wall-clock time from the first
batch (`benchmarks.time_budget.TimeBudget`, checked after every step), with
Adam, the same batch size and about `--target_params` parameters (each
model's width is the candidate whose count is closest). A model whose loss
or weights go non-finite stops there (`NonFiniteGuard`) and is recorded as
`diverged`, with its steps and curve, and not evaluated. Otherwise, per model:

  - bits/dim on the first `--num_eval` test images: exact (uniformly
    dequantized) for Glow, the ELBO for the VAE, f-VAE and VFlow
    (`"likelihood"` says which; the ELBOs are upper bounds on bits/dim), and
    for those the tighter IW bound with `--num_importance_samples` samples;
  - FID of `--num_fid_samples` samples (temperature `--temperature`) against
    the test images, with the standard Inception (biased upwards for few samples:
    compare models at equal sample counts only);
  - images/s: training throughput over the budget, and sampling throughput;
  - the training curve: each logged metric's mean over every minute;
  - FIDs at `--extra_temperatures`, and f-VAE's learned sigma1 and sigma2;
  - with `--select_temperatures=0,0.5,0.8,1`, the temperature is chosen by
    FID on the validation split first (`tfflows.training.select_temperature`,
    `temperature_selection` in the JSON) and every number above uses it;
  - the flow-decoder VAE: the FID of its VAE's images `g_mu(z)` beside its
    own, and a PNG of the pair (`<name>_pair.png`, Figure 4).

Evaluation is on `--eval_split`: "validation" (the last 5,000 training
images, never trained on) when choosing between variants, "test" for the
reported numbers. `--config` changes a model's architecture, e.g.
`--config='{"fvae": {"latent_channels": 2}}'`, and `--tag` names the variant.

Usage:
  python -m benchmarks.fvae_compare --data_dir=/path/to/mnist --minutes=30 \
      --results_dir=benchmarks/results

The JSON result is printed as the last line and written to `--output`; with
`--results_dir`, each model's row also goes to
`<paper>_<dataset>_<model>[-<tag>]_<minutes>min[_<split>].json` (no split
suffix for "test") beside a PNG of its samples, one row per temperature.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.environment import describe  # noqa: E402
from benchmarks.time_budget import TimeBudget, TimedPhaseSwitch  # noqa: E402
from tfflows import data, models, visualization  # noqa: E402
from tfflows.temperatures import parse_temperatures  # noqa: E402
from tfflows.training import (  # noqa: E402
    NonFiniteError,
    NonFiniteGuard,
    select_temperature,
)
from tfflows.training.evaluation import (  # noqa: E402
    evaluate,
    reconstruction_fid,
    sample_fid,
)

_CHILD = "TFFLOWS_BENCHMARK_CHILD"  # set in the process `run_in_subprocess` starts
EPOCH_STEPS = 200  # steps per Keras epoch inside the time budget
WIDTHS = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def architecture(name, width, overrides=None):
    """The compared configurations, with `width` the knob matched to the parameter budget.

    `overrides` (from `--config`) replaces or adds constructor arguments.
    """
    return {**_architecture(name, width), **(overrides or {})}


def _architecture(name, width):
    if name == "fvae":
        return dict(encoder_steps=2, hidden_units=width, flow_steps=4, flow_hidden_units=width)
    if name == "glow":
        return dict(num_steps=8, hidden_units=width)
    if name == "vflow":  # Glow's steps over 1 + 1 channels, and a 2-step q(z|x)
        return dict(
            num_steps=8, hidden_units=width, posterior_steps=2, posterior_hidden_units=width
        )
    if name in ("vae", "two_stage_vae"):  # the same stage 1; stage 2 as wide as it
        extra = dict(stage2_hidden_units=width) if name == "two_stage_vae" else {}
        return dict(latent_dim=32, filters=(32, 64), hidden_units=width, **extra)
    if name == "vae_flow_decoder":
        # The VAE's networks and a RealNVP prior, `width` wide, under an 8-step Glow layer of
        # fixed width 96: about a quarter of the Glow baseline's parameters, as the paper's
        # one-level depth-32 layer is about a third of its Glow's. At the VAE's width (48)
        # the layer was 7% of the model and, after 2 of 4 minutes, still left the VAE's
        # noise in its samples (FID 151 against 69 for the VAE's means, validation).
        return dict(
            latent_dim=32,
            filters=(32, 64),
            hidden_units=width,
            prior_blocks=4,
            prior_hidden_units=width,
            glow_steps=8,
            glow_hidden_units=96,
        )
    raise ValueError(f"Unknown model {name!r}.")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", required=True, help="directory of the IDX .gz files")
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    p.add_argument("--models", default="fvae,glow,vae")
    p.add_argument(
        "--eval_split",
        default="test",
        choices=("validation", "test"),
        help="split of bits/dim and FID: validation to choose variants, test to report",
    )
    p.add_argument(
        "--config",
        default="{}",
        help='JSON of constructor arguments per model, e.g. \'{"fvae": {"latent_channels": 2}}\'',
    )
    p.add_argument("--tag", default="", help="variant name appended to the model's in results")
    p.add_argument("--paper", default="fvae", help="first part of the result files' names")
    p.add_argument("--minutes", type=float, default=30.0, help="training budget per model")
    p.add_argument("--target_params", type=int, default=400_000)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument(
        "--global_clipnorm",
        type=float,
        default=None,
        help="clip each step's gradient to this global norm (Keras' global_clipnorm; None: off)",
    )
    p.add_argument("--num_eval", type=int, default=2000, help="test images for bits/dim")
    p.add_argument(
        "--num_importance_samples",
        type=int,
        default=16,
        help="K of the IW bound reported beside the ELBO of latent-variable models (<= 1: none)",
    )
    p.add_argument("--num_fid_samples", type=int, default=10000)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument(
        "--extra_temperatures",
        default="",
        help="comma-separated temperatures of further FIDs (the f-VAE paper samples at 0.8 too)",
    )
    p.add_argument(
        "--select_temperatures",
        default="",
        help="comma-separated candidates scored by FID on the validation split after training; "
        "the best replaces --temperature for every reported number",
    )
    p.add_argument(
        "--selection_fid_samples",
        type=int,
        default=5000,
        help="samples per candidate of --select_temperatures, against the first --num_eval "
        "validation images (at most 5,000)",
    )
    p.add_argument(
        "--reconstruction_fid",
        type=int,
        default=0,
        help="also the FID of decode(encode(x)) of min(num_fid_samples, num_eval) images, for "
        "models with a latent space (1/0)",
    )
    p.add_argument(
        "--figure4_fid",
        type=int,
        default=1,
        help="flow-decoder VAE: also the FID of its VAE's images g_mu(z) (Figure 4) (1/0)",
    )
    p.add_argument("--jit_compile", type=int, default=0, help="XLA loss and gradients (1/0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--fid_cache_dir",
        default=None,
        help="cache of the test images' Inception statistics (computed once, not per model)",
    )
    p.add_argument(
        "--fid_method",
        default="sqrtm",
        choices=("sqrtm", "eigh"),
        help="FID's matrix square root: sqrtm (the references'; reported numbers) or eigh "
        "(equal up to rounding, much faster for a few images, as in the tests)",
    )
    p.add_argument(
        "--save_dir", default=None, help="write each trained model's weights here (NAME.weights.h5)"
    )
    p.add_argument(
        "--weights_dir",
        default=None,
        help="evaluate NAME.weights.h5 saved there by --save_dir instead of training (the "
        "training's figures and CPU, `train_cpu`, are those saved beside it)",
    )
    p.add_argument("--isolate", type=int, default=1, help="one Python process per model (1/0)")
    p.add_argument("--output", default=None)
    p.add_argument("--results_dir", default=None, help="a JSON and a PNG per model here")
    args = p.parse_args(argv)
    args.overrides = model_overrides(p, args.config)
    for name in ("extra_temperatures", "select_temperatures"):  # "" or "0,0.5": a tuple
        text = getattr(args, name)
        try:
            setattr(args, name, parse_temperatures(text, f"--{name}") if text.strip(" ,") else ())
        except ValueError as error:
            p.error(str(error))
    # The command line a result records (`argv` given: as if run as a module).
    args.argv = None if argv is None else ["benchmarks/fvae_compare.py", *argv]
    return args


def model_overrides(parser, text):
    """`--config`'s JSON as {model name: {argument: value}}, else the parser's usage error."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        parser.error(f"--config is not JSON: {error}")
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        parser.error("--config must map model names to dicts of constructor arguments")
    return config


def result_name(args, model):
    """`<paper>_<dataset>_<model>[-<tag>]_<minutes>min[_<split>]`: what the file measured."""
    variant = f"{model}-{args.tag}" if args.tag else model
    suffix = "" if args.eval_split == "test" else f"_{args.eval_split}"
    return f"{args.paper}_{args.dataset}_{variant}_{args.minutes:g}min{suffix}"


def build(name, image_shape, target_params, seed, overrides=None):
    """The model of `name` whose parameter count is closest to `target_params`."""
    best = None
    for width in WIDTHS:
        keras.utils.set_random_seed(seed)
        model = models.get(name, image_shape, **architecture(name, width, overrides))
        count = model.count_params()
        if best is None or abs(count - target_params) < abs(best[1] - target_params):
            best = (model, count, width)
        if count > target_params:
            break
    return best


def iw_bits_per_dim(model, args, batch_size=50):
    """Bits/dim of the IW_K bound on the first `--num_eval` test images (ELBO models only)."""
    if model.likelihood_kind != "elbo" or args.num_importance_samples <= 1:
        return None
    images = data.load(
        args.dataset, args.eval_split, data_dir=args.data_dir, batch_size=batch_size, prefetch=False
    ).take(math.ceil(args.num_eval / batch_size))
    bound = np.concatenate(
        [
            model.log_prob(
                batch, seed=args.seed + i, num_importance_samples=args.num_importance_samples
            )
            for i, batch in enumerate(images)
        ]
    )[: args.num_eval]
    return float(-bound.mean() / (math.prod(model.image_shape) * math.log(2.0)))


def run_model(name, args, image_shape):
    model, count, width = build(
        name, image_shape, args.target_params, args.seed, args.overrides.get(name)
    )
    train = data.load(
        args.dataset,
        "train",
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
        drop_remainder=True,
    )
    model.initialize(next(iter(train)))
    optimizer = model.make_optimizer(args.learning_rate, global_clipnorm=args.global_clipnorm)
    model.compile(optimizer, jit_compile=bool(args.jit_compile))
    if args.weights_dir:
        # Evaluate saved weights; their training figures are those saved beside them.
        model.load_weights(os.path.join(args.weights_dir, f"{name}.weights.h5"))
        training = _read_json(os.path.join(args.weights_dir, f"{name}.training.json"))
    else:
        budget = TimeBudget(args.minutes * 60.0)
        # The guard first: a diverged model stops, and is reported as such, not evaluated.
        callbacks = [NonFiniteGuard(), budget]
        if hasattr(model, "phase1_fraction"):  # two phases: the first share of the minutes
            callbacks.append(TimedPhaseSwitch(budget, model.phase1_fraction))
        diverged = None
        try:
            # Short epochs: Keras' running means restart often, so the curve stays exact.
            history = model.fit(
                train.repeat(),
                epochs=10**9,
                steps_per_epoch=EPOCH_STEPS,
                callbacks=callbacks,
                verbose=0,
            ).history
        except NonFiniteError as error:
            diverged, history = str(error), {"loss": [float("nan")]}
        switch = callbacks[2] if len(callbacks) > 2 else None
        training = {
            "phase2_start_step": switch.switch_step if switch else None,
            "train_steps": budget.steps,
            "train_seconds": round(budget.elapsed, 1),
            "train_images_per_second": round(budget.steps * args.batch_size / budget.elapsed, 1),
            # Saved with the weights: a later evaluation may run on another CPU or cores.
            "train_cpu": describe()["cpu"],
            "final_train_loss": float(history["loss"][-1]),
            "curve": budget.curve,
            "diverged": diverged,
        }
        if diverged:
            return _diverged_row(name, args, count, width, training)
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        model.save_weights(os.path.join(args.save_dir, f"{name}.weights.h5"))
        write_json(os.path.join(args.save_dir, f"{name}.training.json"), training)
    common = dict(
        data_dir=args.data_dir,
        max_examples=args.num_eval,
        seed=args.seed,
        fid_cache_dir=args.fid_cache_dir,
        verbose=False,
        fid_method=args.fid_method,
    )
    selection = None
    if args.select_temperatures and args.num_fid_samples:
        selection = select_temperature(
            model,
            args.dataset,
            args.select_temperatures,
            num_samples=args.selection_fid_samples,
            **common,  # against the first --num_eval validation images
        )
        # Every number below is at the temperature chosen on held-out training images.
        args = argparse.Namespace(**{**vars(args), "temperature": selection["temperature"]})
    model.sample(100, args.temperature, seed=1)  # warm-up
    start = time.perf_counter()
    model.sample(100, args.temperature, seed=2)
    sample_rate = 100 / (time.perf_counter() - start)
    results = evaluate(
        model,
        args.dataset,
        args.eval_split,
        num_fid_samples=args.num_fid_samples,
        temperature=args.temperature,
        **common,
    )
    sweep = {
        f"{t:g}": sample_fid(  # JSON keys as typed: "0", "0.8", "1"
            model,
            args.dataset,
            args.eval_split,
            num_samples=args.num_fid_samples,
            temperature=t,
            **common,
        )
        for t in args.extra_temperatures
        if args.num_fid_samples
    }
    reconstructions = {}
    has_latent = getattr(model, "latent_shape", None) is not None  # flows reconstruct exactly
    if args.reconstruction_fid and args.num_fid_samples and has_latent:
        reconstructions = reconstruction_fid(
            model,
            args.dataset,
            args.eval_split,
            num_images=min(args.num_fid_samples, args.num_eval),
            **{key: value for key, value in common.items() if key != "seed"},  # no sampling
        )
    pair = {}
    if hasattr(model, "sample_pair"):
        pair = figure4_pair(model, name, args, common, fid=results.get("fid"))
    learned_scales = {
        name: float(keras.ops.exp(getattr(model, f"log_{name}")))
        for name in ("sigma1", "sigma2")
        if hasattr(model, f"log_{name}")
    }
    temperatures = [args.temperature, *args.extra_temperatures]
    grid = None
    if args.results_dir:
        os.makedirs(args.results_dir, exist_ok=True)
        grid = result_name(args, name) + ".png"
        visualization.save_temperature_sweep(
            lambda n, t: model.sample(n, t, seed=3),
            temperatures,
            os.path.join(args.results_dir, grid),
            num_samples=16,
            scale=2,
            value_range=(0.0, 1.0),  # `sample` gives [0, 1] floats
        )
    return {
        **learned_scales,
        **reconstructions,
        **pair,
        "variant": args.tag or None,
        "eval_split": args.eval_split,
        "sample_grid": grid,
        "sample_grid_temperatures": temperatures,
        "temperature": args.temperature,
        "temperature_selection": selection,
        "fid_at_temperature": {t: r["fid"] for t, r in sweep.items()},
        "nonfinite_samples_at_temperature": {t: r["nonfinite_samples"] for t, r in sweep.items()},
        "model": name,
        "parameters": int(count),
        "width": width,
        "config": {
            k: list(v) if isinstance(v, tuple) else v for k, v in model.get_config().items()
        },
        **training,
        "evaluated_from_saved_weights": bool(args.weights_dir),
        "sample_images_per_second": round(sample_rate, 1),
        "bits_per_dim": results["bits_per_dim"],
        "likelihood": results["likelihood"],
        "bits_per_dim_iw": iw_bits_per_dim(model, args),
        "num_importance_samples": args.num_importance_samples,
        "num_eval": results["num_examples"],
        "fid": results.get("fid"),
        "num_fid_samples": args.num_fid_samples,
        "fid_method": args.fid_method,
        "nonfinite_samples": results.get("nonfinite_samples"),
    }


def _diverged_row(name, args, count, width, training):
    """The result of a model whose training went non-finite: what it did, nothing evaluated."""
    print(f"{name} diverged: {training['diverged']}", flush=True)
    return {
        **training,
        "model": name,
        "variant": args.tag or None,
        "eval_split": args.eval_split,
        "parameters": int(count),
        "width": width,
        **dict.fromkeys(("bits_per_dim", "bits_per_dim_iw", "fid", "likelihood", "sample_grid")),
    }


class _DecoderMeans:
    """A flow-decoder VAE's underlying VAE as `sample_fid` sees a model: its `g_mu(z)`."""

    def __init__(self, model):
        self.model = model

    def sample(self, num_samples, temperature, seed=None):
        return self.model.sample_pair(num_samples, temperature, seed)[0]


def figure4_pair(model, name, args, common, fid=None):
    """Figure 4 of the flow-decoder VAE: the VAE's images, and the same latents through Glow.

    A PNG (first row the VAE's decoder means `g_mu(z)`, second row the model's
    samples from the same `z`) and the FID of the VAE's images, beside the
    model's own `fid`: the Glow layer must lower it.

    A model still in phase 1 sampled at T = 0 shows exactly the VAE's images
    (`g_mu(z)`, no Glow layer, no noise): its own `fid` is reused rather than
    scoring the same 10k images twice.
    """
    out = {"temperature_of_pair": args.temperature}
    if args.num_fid_samples and model.phase == 1 and args.temperature == 0 and fid is not None:
        out["fid_without_glow_layer"] = fid
    elif args.num_fid_samples and args.figure4_fid:
        result = sample_fid(
            _DecoderMeans(model),
            args.dataset,
            args.eval_split,
            num_samples=args.num_fid_samples,
            temperature=args.temperature,
            **common,
        )
        out["fid_without_glow_layer"] = result["fid"]
    if args.results_dir:
        vae_images, samples = model.sample_pair(8, args.temperature, seed=3)
        out["pair_grid"] = result_name(args, name) + "_pair.png"
        visualization.save_sample_grid(
            np.concatenate([vae_images, samples]),
            os.path.join(args.results_dir, out["pair_grid"]),
            num_rows=2,
            scale=2,
            value_range=(0.0, 1.0),
        )
    return out


def child_flags(args):
    """The command-line flags that parse back to `args` (temperature tuples as "0,0.5")."""
    return [
        f"--{key}={','.join(f'{t:g}' for t in value) if isinstance(value, tuple) else value}"
        for key, value in vars(args).items()
        if key not in ("models", "output", "isolate", "overrides", "argv") and value is not None
    ]


def run_in_subprocess(name, args):
    """`run_model(name)` in a fresh Python process: no state left over from the models before.

    In one process, Glow once failed at its first step with "No gradients provided for
    any variable" after 30 minutes of f-VAE and its evaluation (not reproduced in short
    runs); a process per model also gives each the same clean memory and caches.
    """
    flags = child_flags(args)
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "row.json")
        command = [sys.executable, "-m", "benchmarks.fvae_compare", *flags]
        # The child draws the PNG; the parent writes the JSON, with the user's command line.
        env = {**os.environ, _CHILD: "1"}
        subprocess.run(command + [f"--models={name}", f"--output={output}"], check=True, env=env)
        with open(output) as f:
            return json.load(f)["results"][0]


def main(argv=None):
    args = parse_args(argv)
    spec = data.load(args.dataset, "train", data_dir=args.data_dir, prefetch=False).element_spec
    image_shape = tuple(int(d) for d in spec.shape)
    names = args.models.split(",")
    rows = []
    for name in names:
        if len(names) > 1 and args.isolate:
            rows.append(run_in_subprocess(name, args))
        else:
            rows.append(run_model(name, args, image_shape))
        print(json.dumps(rows[-1], sort_keys=True), flush=True)  # partial results survive a crash
        if args.results_dir and not os.environ.get(_CHILD):
            write_json(
                os.path.join(args.results_dir, result_name(args, name) + ".json"),
                {**settings(args), "result": rows[-1]},
            )
    for row in rows:
        if row.get("diverged"):
            print(f"{row['model']:5s} params={row['parameters']:,} diverged: {row['diverged']}")
            continue
        print(
            f"{row['model']:5s} params={row['parameters']:,} bits/dim={row['bits_per_dim']:.3f} "
            f"({row['likelihood']}; IW {row['bits_per_dim_iw']}) FID={row['fid']} "
            f"train img/s={row['train_images_per_second']} "
            f"sample img/s={row['sample_images_per_second']}"
        )
    out = {**settings(args), "results": rows}
    if args.output:
        write_json(args.output, out)
    print(json.dumps(out, sort_keys=True))


def settings(args):
    """What every result file records besides its rows: budget, protocol and environment."""
    return {
        "paper": args.paper,
        "dataset": args.dataset,
        "eval_split": args.eval_split,
        "minutes_per_model": args.minutes,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "global_clipnorm": args.global_clipnorm,
        "target_params": args.target_params,
        "seed": args.seed,
        "num_eval": args.num_eval,
        "num_fid_samples": args.num_fid_samples,
        "environment": describe(args.argv),
    }


def _read_json(path):
    """A saved training summary, or Nones where it was not saved."""
    if not os.path.exists(path):
        keys = ("train_steps", "train_seconds", "train_images_per_second", "final_train_loss")
        return dict.fromkeys(keys)
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
