r"""Trains a tfflows model, with checkpoints, TensorBoard, evaluation and export.

  python -m trainers.train                       # Glow (small) on the embedded digits
  python -m trainers.train --model=vae --dataset=mnist --data_dir=/path/to/mnist \
      --model_dir=runs/vae --export_dir=runs/vae/saved_model
  python -m trainers.train --strategy=mirrored --jit_compile          # all local GPUs

Re-running the same command resumes from `--model_dir`. Invalid flags fail in
one line with exit status 2 before anything runs; a run that stops (non-finite
loss, no loadable backup, another run in `--model_dir`) says why in one line
and exits non-zero; Ctrl-C and SIGTERM exit with 128 + the signal's number.
"""

import json
import signal
import sys

from absl import app, flags, logging

from trainers.quiet import import_tensorflow_quietly

try:
    import_tensorflow_quietly()  # before anything imports TensorFlow

    from tfflows import data, models
except KeyboardInterrupt:  # Ctrl-C in the seconds TensorFlow takes to load
    print("interrupted before training started", file=sys.stderr)
    sys.exit(128 + signal.SIGINT)

FLAGS = flags.FLAGS

flags.DEFINE_string("model", "glow", f"Model: {', '.join(models.names())}.")
flags.DEFINE_string(
    "preset", "small", "Hyper-parameter preset: 'default' (the paper's) or 'small'."
)
flags.DEFINE_string("config", None, "JSON file of model hyper-parameters (flags override it).")
flags.DEFINE_string("dataset", "digits", f"Data set: {', '.join(data.NAMES)} (digits: embedded).")
flags.DEFINE_string("data_dir", None, "TFDS data dir, or a directory of MNIST/Fashion IDX files.")
flags.DEFINE_integer("pad_to", None, "Zero-pad images to this size (e.g. 32 for MNIST in Glow).")
flags.DEFINE_integer("num_bits", 8, "Bit depth the model sees.")
flags.DEFINE_bool(
    "data_autotune",
    True,
    "tf.data autotuning; --nodata_autotune avoids a stall of tens of seconds at epoch starts "
    "seen on CPU (TF 2.21 deleting the last epoch's iterator).",
)
flags.DEFINE_bool(
    "download",
    False,
    "Let TFDS download and prepare a data set missing from --data_dir (never done otherwise).",
)
flags.DEFINE_integer("epochs", 20, "Epochs.")
flags.DEFINE_integer("batch_size", 64, "Global batch size (over all replicas and workers).")
flags.DEFINE_float("learning_rate", 1e-3, "Adam's initial learning rate.")
flags.DEFINE_integer("lr_halve_every", 0, "Halve the learning rate every N epochs (0: never).")
flags.DEFINE_list("lr_halve_after", [], "Halve the learning rate after each of these epochs.")
flags.DEFINE_float("clipnorm", None, "Clip gradients to this global norm.")
flags.DEFINE_float(
    "ema_momentum", None, "Average the weights with this momentum; training ends with the average."
)
flags.DEFINE_integer("steps_per_epoch", None, "Cap on steps per epoch.")
flags.DEFINE_string("train_split", "train", "Training split (the training set minus validation).")
flags.DEFINE_string(
    "validation_split",
    "validation",
    "Split that picks best.keras: carved from the training set ('' for none).",
)
flags.DEFINE_string("test_split", "test", "Split of the final evaluation (only).")
flags.DEFINE_string("model_dir", "runs/default", "Checkpoints, metrics.csv, TensorBoard, samples.")
flags.DEFINE_string("export_dir", None, "SavedModel directory (default: <model_dir>/saved_model).")
flags.DEFINE_enum(
    "strategy", "default", ["default", "mirrored", "multi_worker", "tpu"], "tf.distribute strategy."
)
flags.DEFINE_string("tpu", None, "TPU name for --strategy=tpu.")
flags.DEFINE_integer("num_cpu_devices", 1, "Split the CPU into N logical devices (testing).")
flags.DEFINE_bool("jit_compile", False, "XLA-compile the loss and gradients.")
flags.DEFINE_integer("seed", 0, "Seed of weights, shuffling and noise.")
flags.DEFINE_integer("backup_every_steps", 0, "Also back up every N steps (0: epoch ends).")
flags.DEFINE_bool(
    "start_over",
    False,
    "Discard the backups, logs and best.keras of the run in --model_dir and start anew.",
)
flags.DEFINE_integer("num_samples", 64, "Images in the sample grids.")
flags.DEFINE_integer("verbose", 1, "Keras progress: 1 bar, 2 a line per epoch, 0 silent.")

# Imported after the flags above so that --helpfull lists them first.
from trainers.model_flags import define_model_flags, model_kwargs  # noqa: E402

define_model_flags()


def config_from_flags():
    """A `TrainConfig` from the command line."""
    from tfflows.training import TrainConfig

    kwargs = {}
    if FLAGS.config:
        with open(FLAGS.config) as f:
            kwargs.update(json.load(f))
    if FLAGS.model in models.names():  # else check_config names the choices
        kwargs.update(model_kwargs(FLAGS.model))
    return TrainConfig(
        model=FLAGS.model,
        preset=FLAGS.preset,
        model_kwargs=kwargs,
        dataset=FLAGS.dataset,
        data_dir=FLAGS.data_dir,
        pad_to=FLAGS.pad_to,
        num_bits=FLAGS.num_bits,
        data_autotune=FLAGS.data_autotune,
        download=FLAGS.download,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        lr_halve_every=FLAGS.lr_halve_every,
        lr_halve_after=tuple(int(e) for e in FLAGS.lr_halve_after),
        clipnorm=FLAGS.clipnorm,
        ema_momentum=FLAGS.ema_momentum,
        steps_per_epoch=FLAGS.steps_per_epoch,
        train_split=FLAGS.train_split,
        validation_split=FLAGS.validation_split,
        test_split=FLAGS.test_split,
        model_dir=FLAGS.model_dir,
        export_dir=FLAGS.export_dir
        if FLAGS.export_dir is not None
        else f"{FLAGS.model_dir}/saved_model",
        strategy=FLAGS.strategy,
        tpu=FLAGS.tpu,
        jit_compile=FLAGS.jit_compile,
        seed=FLAGS.seed,
        backup_every_steps=FLAGS.backup_every_steps,
        start_over=FLAGS.start_over,
        num_samples=FLAGS.num_samples,
        verbose=FLAGS.verbose,
    )


def _fail(message, exit_code):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(exit_code)


def parse_flags(argv):
    """absl's parsing, then the configuration's checks: one line and exit status 2 on errors."""
    from tfflows.training import ConfigError, check_config

    try:
        rest = FLAGS(argv)
        config = config_from_flags()
    except flags.Error as error:
        _fail(str(error).splitlines()[0], 2)
    except (OSError, ValueError, TypeError) as error:  # --config's file, model flag values
        _fail(f"{type(error).__name__}: {error}", 2)
    try:
        check_config(config)
    except ConfigError as error:
        _fail(str(error), 2)
    return rest


_LIKELIHOODS = {
    "exact": "exact likelihood",
    "elbo": "ELBO, a lower bound",
    "joint": "joint density of image and code, not a bound",
}


def summary(results, config):
    """The lines printed at the end of a run: the test number and where the files are."""
    model_dir = config.model_dir
    validation = (
        f"; best.keras chosen on {results['validation_split']!r}, "
        f"{results['num_validation_images']} images"
        if results.get("validation_split")
        else ""
    )
    kind = _LIKELIHOODS.get(results["likelihood"], results["likelihood"])
    if results.get("dequantization") == "variational":
        kind += ", variational dequantization"
    lines = [
        f"test bits/dim {results['bits_per_dim']:.4f} ({kind}; split {results['test_split']!r}, "
        f"{results['num_test_images']} images{validation})",
        f"  samples:     {model_dir}/samples.png",
        f"  evaluation:  {model_dir}/evaluation.json",
        f"  TensorBoard: tensorboard --logdir {model_dir}/tensorboard",
    ]
    if config.export_dir:
        lines.append(f"  SavedModel:  {config.export_dir}")
    if "bits_per_dim_original_pixels" in results:
        lines.insert(
            1,
            f"  over all {results['num_dims']} padded dims; "
            f"{results['bits_per_dim_original_pixels']:.4f} over the "
            f"{results['original_num_dims']} original pixels (an upper bound)",
        )
    if results.get("nonfinite_samples"):
        lines.append(
            f"  warning: {results['nonfinite_samples']} of {results['nonfinite_samples_of']} "
            "samples at T = 1 have NaN or infinite pixels"
        )
    return lines


def main(argv):
    del argv
    from tfflows.training import Interrupted, TrainingError, configure_cpu_devices, train

    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # TFDS and SavedModel INFO lines: --verbosity=0
    configure_cpu_devices(FLAGS.num_cpu_devices)  # before TensorFlow runs anything
    config = config_from_flags()
    try:
        results = train(config)
    except Interrupted as error:
        print(error, file=sys.stderr)
        sys.exit(error.exit_code)
    except TrainingError as error:
        _fail(str(error), error.exit_code)
    print("\n".join(summary(results, config)))


def run():
    """Console-script entry point (`tfflows-train`)."""
    try:
        app.run(main, flags_parser=parse_flags)
    except KeyboardInterrupt:  # before train() took over (it says where training was)
        print("interrupted before training started", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)


if __name__ == "__main__":
    run()
