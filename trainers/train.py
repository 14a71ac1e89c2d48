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
    from tfflows.training.config import TrainConfig
    from tfflows.training.distribution import STRATEGIES
    from trainers.declared_flags import (
        config_values,
        define_config_flags,
        define_model_flags,
        model_kwargs,
    )
except KeyboardInterrupt:  # Ctrl-C in the seconds TensorFlow takes to load
    print("interrupted before training started", file=sys.stderr)
    sys.exit(128 + signal.SIGINT)

FLAGS = flags.FLAGS

# The flags follow the declarations they set: TrainConfig's fields, the models' arguments.
flags.DEFINE_string("config", None, "JSON file of model hyper-parameters (flags override it).")
flags.DEFINE_integer("num_cpu_devices", 1, "Split the CPU into N logical devices (testing).")
_CONFIG_FLAGS = define_config_flags(
    TrainConfig,
    skip=("model_kwargs",),  # --config and the --<model>_<name> flags fill it in
    helps={
        "model": f"One of: {', '.join(models.names())}.",
        "dataset": f"One of: {', '.join(data.NAMES)}.",
        "export_dir": "Default: <model_dir>/saved_model (--export_dir='' skips it).",
    },
    enums={"strategy": STRATEGIES},
    defaults={"export_dir": None},
)
# After the trainer's own flags, so that --helpfull lists them first.
define_model_flags()


def config_from_flags():
    """A `TrainConfig` from the command line."""
    kwargs = {}
    if FLAGS.config:
        with open(FLAGS.config) as f:
            kwargs.update(json.load(f))
    if FLAGS.model in models.names():  # else check_config names the choices
        kwargs.update(model_kwargs(FLAGS.model))
    values = config_values(TrainConfig, _CONFIG_FLAGS)
    if values["export_dir"] is None:
        values["export_dir"] = f"{values['model_dir']}/saved_model"
    return TrainConfig(model_kwargs=kwargs, **values)


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
