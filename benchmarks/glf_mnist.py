"""GLF on MNIST or Fashion-MNIST under a time or epoch budget: FID (Table 1) and reconstruction MSE.

Trains `--model` (glf, glf_regularized, vae_flow_prior or the vae baseline)
on the training images of `--dataset` (MNIST or Fashion-MNIST IDX `.gz` files in `--data_dir`) with
appendix B.1's settings: batch 256, Adam 1e-3 (GLF's flow with coupled L2
2e-5, see `tfflows.optimizers.SplitAdam`), the learning rate halved after 50
epochs (100 for the VAE variants, B.2), for `--epochs` epochs or until
`--minutes` of training have passed (checked after every step).
`--lr_halve_at_fraction 0.5` scales that schedule to the budget instead
(halved after half of `--minutes`, else of `--epochs`). Then:

  - FID between `--num_fid_samples` samples (temperature `--temperature`) and
    the first `--num_fid_real` test images, with the standard Inception
    (`tfflows.metrics.frechet_inception_distance`; 10k vs the 10k test images
    is Table 1's protocol, the defaults);
  - reconstruction MSE per pixel on the test set, `mean((G(E(x)) - x/255)^2)`
    (the scale of the authors' `ToTensor` images).

`--protocols` names how samples are drawn for FID (each is measured):

  - `standard`: `model.sample` with the batch norms' moving averages;
  - `batch_statistics`: the flow's and decoder's batch norms normalize with
    each batch of `--sample_batch_size` samples' statistics (read-only);
  - `minmax`: each sample stretched to the full range, `(x - min) / (max - min)`;
  - `reference`: both, GLF's reference sampling (generate_sample.py samples
    in `train()` mode in batches of 500 and min-max scales every image; its
    README computes FID on those images with TTUR's TF Inception).

`--fid_draws 10` scores ten independent sample draws per protocol against
the same real statistics and reports their mean and standard deviation
(`fid_draws` in the JSON), as Table 1's "mean and standard deviation of 10
trials, each 10k generated against 10k real images" does.

`--ema_momentum 0.999` also keeps a moving average of the weights (Keras'
`use_ema`) and reports the metrics of both the averaged weights (the result)
and the trained ones (`without_ema`), at the end and at each snapshot. The
averaged weights get batch-norm statistics of their own, recomputed over
`--recalibration_batches` training batches.

`--weights` evaluates saved weights (this script's `.weights.h5`) instead
of training. `--snapshot_minutes=30` also saves the weights after 30 minutes
of a longer run and reports the same metrics for them (`snapshots` in the
JSON), so one 90-minute run answers both budgets. Real-image Inception statistics are
computed once (cached in `--output`'s directory).

Usage:
  python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --minutes=30 --output=glf.json
  python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --minutes=90 --snapshot_minutes=30
  python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --model=vae_flow_prior --epochs=2

The JSON result is printed as the last line and written to `--output`.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Table 3's auto-encoder is four big matmuls/convolutions: on x86 CPUs oneDNN's
# kernels run its training step faster than TensorFlow's default Eigen ones in
# graph mode and than XLA (benchmarks/README.md). Set before importing TensorFlow.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.environment import describe  # noqa: E402
from benchmarks.glf_evaluation import (  # noqa: E402
    PROTOCOLS,
    add_fid_arguments,
    evaluate,
    samples_uint8,
    test_arrays,
)
from benchmarks.time_budget import BudgetHalving, TimeBudget  # noqa: E402
from tfflows import data, models, visualization  # noqa: E402
from tfflows.layers import recalibrate_batch_norm  # noqa: E402
from tfflows.metrics import feature_statistics  # noqa: E402
from tfflows.training import averaging_options, step_halving  # noqa: E402

MODELS = ("glf", "glf_regularized", "vae_flow_prior", "vae")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", required=True, help="directory of the IDX .gz files")
    p.add_argument(
        "--dataset",
        default="mnist",
        choices=("mnist", "fashion_mnist"),
        help="MNIST (Table 1: FID 8.2) or Fashion-MNIST (Table 1: 21.3)",
    )
    p.add_argument("--model", choices=MODELS, default="glf")
    p.add_argument("--epochs", type=int, default=100, help="epoch budget (B.1: 100)")
    p.add_argument("--minutes", type=float, default=None, help="training time budget")
    p.add_argument("--batch_size", type=int, default=256)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument(
        "--lr_halve_after",
        type=int,
        nargs="*",
        default=None,
        help="epochs after which the learning rate halves; default: 50 (GLF), 100 (VAE variants)",
    )
    p.add_argument(
        "--lr_halve_at_fraction",
        type=float,
        nargs="*",
        default=None,
        help="halve the learning rate once each fraction of the budget (--minutes, else "
        "--epochs) has passed: B.1's 'after 50 of 100 epochs' is 0.5; replaces --lr_halve_after",
    )
    p.add_argument("--latent_dim", type=int, default=20, help="nz (section 4: 20 for MNIST)")
    p.add_argument(
        "--autoencoder_init_stddev",
        type=float,
        default=None,
        help="N(0, s^2) auto-encoder kernels (the authors' code: 0.02); default Keras' init",
    )
    p.add_argument(
        "--decoder_logit_scale",
        type=float,
        default=1.0,
        help="images are sigmoid(scale * a) (2: the authors' 0.5 tanh(a) + 0.5 output)",
    )
    p.add_argument(
        "--flow_permute_every",
        choices=("coupling", "block"),
        default="coupling",
        help="the latent flow's permutations: after each coupling (Figure 1b) or once per "
        "block of two couplings (the authors' FrEIA flow)",
    )
    p.add_argument(
        "--flow_scale_activation",
        choices=("tanh", "atan"),
        default="tanh",
        help="the couplings' log-scale activation: tanh, or atan (FrEIA's soft clamp at 2, "
        "the authors' code)",
    )
    p.add_argument(
        "--flow_affine_direction",
        choices=("forward", "inverse"),
        default="forward",
        help="inverse: the couplings compute z_b exp(s) + t from latent to noise (section "
        "3.1, the authors' FrEIA flow); forward: that form from noise to latent",
    )
    p.add_argument(
        "--autoencoder_dtype",
        default=None,
        help="Keras dtype policy of the auto-encoder's hidden layers: mixed_bfloat16 runs its "
        "matmuls and convolutions in bfloat16 (oneDNN's AMX kernels on recent Xeons; bf16 "
        "tensor cores on GPUs), weights, outputs, the flow and the loss in float32",
    )
    p.add_argument(
        "--ema_momentum",
        type=float,
        default=None,
        help="also keep a moving average of the weights (Keras' use_ema) with this momentum; "
        "the result is for the averaged weights, 'without_ema' for the trained ones",
    )
    p.add_argument(
        "--recalibration_batches",
        type=int,
        default=100,
        help="with --ema_momentum: training batches that recompute the batch norms' statistics "
        "for the averaged weights (tfflows.layers.recalibrate_batch_norm)",
    )
    add_fid_arguments(p, num_fid_samples=10000)
    p.add_argument(
        "--num_mse_images", type=int, default=None, help="test images for the MSE (default: all)"
    )
    p.add_argument(
        "--protocols",
        default="standard",
        help=f"comma-separated sampling protocols for FID, of {sorted(PROTOCOLS)}",
    )
    p.add_argument(
        "--weights", nargs="*", default=(), help="evaluate these saved weights, no training"
    )
    p.add_argument(
        "--snapshot_minutes",
        type=float,
        nargs="*",
        default=(),
        help="also evaluate the weights saved after these many minutes of training",
    )
    p.add_argument(
        "--jit_compile",
        type=int,
        default=0,
        help="XLA loss and gradients (1/0); on CPU, oneDNN graph mode is faster",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="JSON file for the result")
    return p.parse_args(argv)


def build(args):
    kwargs = {"latent_dim": args.latent_dim}
    if args.model != "vae":
        kwargs["autoencoder_init_stddev"] = args.autoencoder_init_stddev
        kwargs["decoder_logit_scale"] = args.decoder_logit_scale
        kwargs["autoencoder_dtype"] = args.autoencoder_dtype
        kwargs["flow_permute_every"] = args.flow_permute_every
        kwargs["flow_scale_activation"] = args.flow_scale_activation
        kwargs["flow_affine_direction"] = args.flow_affine_direction
    model = models.get(args.model, (28, 28, 1), **kwargs)
    optimizer = model.make_optimizer(args.learning_rate, **averaging_options(args.ema_momentum))
    model.compile(optimizer, jit_compile=bool(args.jit_compile))
    return model


def learning_rate_schedule(args):
    """`(epochs after which to halve, halve at fractions of --minutes instead)`."""
    fractions = args.lr_halve_at_fraction
    if fractions is None:
        default = (50 if args.model.startswith("glf") else 100,)
        return tuple(args.lr_halve_after or default), False
    if args.lr_halve_after is not None:
        raise SystemExit("--lr_halve_at_fraction replaces --lr_halve_after: give one.")
    if args.minutes is not None:
        return (), True
    return tuple(round(f * args.epochs) for f in fractions), False


def schedule_callback(args, budget, halve_after, by_time):
    """The learning-rate callback: by epochs, or by the time `budget` (never both)."""
    if by_time:  # an epoch schedule would undo these halvings at each epoch's start
        return BudgetHalving(budget, args.learning_rate, args.lr_halve_at_fraction)
    return keras.callbacks.LearningRateScheduler(
        step_halving(args.learning_rate, after=halve_after)
    )


def train(model, args, output_dir):
    """Trains `model` under the budget; returns the run's facts, the final weights' path first."""
    halve_after, by_time = learning_rate_schedule(args)
    images = data.load(
        args.dataset,
        "train",
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
        cache=True,
        autotune=False,  # its iterator's deletion stalls ~30 s at every other epoch start
    )

    def weights_path(minutes, suffix=""):
        when = "final" if minutes is None else f"{minutes:g}min"
        return os.path.join(output_dir, f"{args.model}_{when}{suffix}.weights.h5")

    recalibration = images.take(args.recalibration_batches)
    budget = TimeBudget(
        None if args.minutes is None else 60.0 * args.minutes,
        args.snapshot_minutes,
        weights_path,
        recalibration if args.recalibration_batches else None,
    )
    callbacks = [budget, schedule_callback(args, budget, halve_after, by_time)]
    history = model.fit(images, epochs=args.epochs, verbose=2, callbacks=callbacks).history
    train_seconds = budget.elapsed
    if budget.averaging and args.recalibration_batches:
        recalibrate_batch_norm(model, recalibration)  # fit ended with the moving average
    final_path = weights_path(None)
    model.save_weights(final_path)
    return {
        "weights": final_path,
        "weights_without_ema": weights_path(None, "_without_ema") if budget.averaging else None,
        "snapshots": budget.snapshots,
        "lr_halve_after": list(halve_after),
        "lr_halvings_by_time": callbacks[-1].halvings if by_time else [],
        "epochs_started": len(budget.epoch_seconds),
        "steps": budget.steps,
        "epochs_trained": round(budget.steps / int(images.cardinality()), 2),
        "train_seconds": round(train_seconds, 1),
        "epoch_seconds": [round(s, 1) for s in budget.epoch_seconds],
        "final_train_metrics": {k: float(v[-1]) for k, v in history.items()},
        # Each epoch's mean of every logged metric (Keras' history), for training curves
        # against `epoch_seconds`' running sum.
        "history": {k: [round(float(x), 6) for x in v] for k, v in history.items()},
    }


def save_sample_grid(model, args, path):
    """64 samples of the current weights at `--temperature`, drawn by the first protocol, as PNG."""
    protocol = args.protocols.split(",")[0]
    images = samples_uint8(
        model, 64, args.temperature, protocol, batch_size=args.sample_batch_size, seed=args.seed
    )
    visualization.save_sample_grid(images, path, scale=2)
    return {"sample_grid": os.path.basename(path), "sample_grid_protocol": protocol}


def weight_file_names(value):
    """`value` with each `weights*` path cut to its file name (the files are beside the JSON)."""
    if isinstance(value, dict):
        return {
            key: os.path.basename(item)
            if key.startswith("weights") and isinstance(item, str)
            else weight_file_names(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [weight_file_names(item) for item in value]
    return value


def main(argv=None):
    args = parse_args(argv)
    unknown = set(args.protocols.split(",")) - set(PROTOCOLS)
    if unknown:
        raise SystemExit(f"Unknown --protocols {sorted(unknown)}; known: {sorted(PROTOCOLS)}")
    keras.utils.set_random_seed(args.seed)
    model = build(args)
    output_dir = os.path.dirname(os.path.abspath(args.output or "glf_mnist.json"))
    result = {"model": args.model}
    if not args.weights:
        result.update(train(model, args, output_dir))

    test = test_arrays(args.data_dir, dataset=args.dataset)
    real = feature_statistics(
        test[: args.num_fid_real],
        cache_path=os.path.join(
            output_dir, f"{args.dataset}_test_{args.num_fid_real}_inception.npz"
        ),
        batch_size=args.fid_batch_size,
        verbose=False,
    )

    def evaluate_weights(path):
        model.load_weights(path)
        return evaluate(model, test, real, args)

    if args.weights:
        result["evaluations"] = [{"weights": p, **evaluate_weights(p)} for p in args.weights]
    else:
        for run in [result, *result["snapshots"]]:
            run.update(evaluate_weights(run["weights"]))
            if run is result and args.output:  # the final weights' samples, beside the JSON
                grid = os.path.splitext(os.path.abspath(args.output))[0] + ".png"
                result.update(save_sample_grid(model, args, grid))
            if run.get("weights_without_ema"):
                run["without_ema"] = evaluate_weights(run["weights_without_ema"])
    result.update(
        {
            "num_fid_samples": args.num_fid_samples,
            "num_fid_real": int(min(args.num_fid_real, len(test))),
            "num_mse_images": len(test[: args.num_mse_images]),
            "temperature": args.temperature,
            "fid_method": args.fid_method,
            "sample_batch_size": args.sample_batch_size,
            "batch_size": args.batch_size,
            "latent_dim": args.latent_dim,
            "autoencoder_init_stddev": args.autoencoder_init_stddev,
            "decoder_logit_scale": args.decoder_logit_scale,
            "autoencoder_dtype": args.autoencoder_dtype,
            "flow_permute_every": args.flow_permute_every,
            "flow_scale_activation": args.flow_scale_activation,
            "flow_affine_direction": args.flow_affine_direction,
            "ema_momentum": args.ema_momentum,
            "recalibration_batches": args.recalibration_batches if args.ema_momentum else 0,
            "jit_compile": bool(args.jit_compile),
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
            "tensorflow": tf.__version__,
            "cpus": os.cpu_count(),
            "dataset": args.dataset,
            "budget": {"epochs": args.epochs, "minutes": args.minutes},
            "learning_rate": args.learning_rate,
            "seed": args.seed,
            "environment": describe(None if argv is None else ["benchmarks/glf_mnist.py", *argv]),
        }
    )
    written = weight_file_names(result)  # a result file names no machine's paths
    if args.output:
        with open(args.output, "w") as f:
            json.dump(written, f, indent=2)
    print(json.dumps(written))
    return result


if __name__ == "__main__":
    main()
