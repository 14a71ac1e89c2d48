r"""Trains a tfflows model, with checkpoints, TensorBoard, evaluation and export.

  python -m trainers.train                       # Glow (small) on the embedded digits
  python -m trainers.train --model=vae --dataset=mnist --data_dir=/path/to/mnist \
      --model_dir=runs/vae --export_dir=runs/vae/saved_model
  python -m trainers.train --strategy=mirrored --jit_compile          # all local GPUs

Re-running the same command resumes from `--model_dir`.
"""

import json

from absl import app, flags

FLAGS = flags.FLAGS

flags.DEFINE_string("model", "glow", "Registered model name (see --helpfull for its flags).")
flags.DEFINE_string(
    "preset", "small", "Hyper-parameter preset: 'default' (the paper's) or 'small'."
)
flags.DEFINE_string("config", None, "JSON file of model hyper-parameters (flags override it).")
flags.DEFINE_string(
    "dataset", "digits", "digits (embedded), mnist, fashion_mnist, cifar10, celeb_a."
)
flags.DEFINE_string("data_dir", None, "TFDS data dir, or a directory of MNIST/Fashion IDX files.")
flags.DEFINE_integer("pad_to", None, "Zero-pad images to this size (e.g. 32 for MNIST in Glow).")
flags.DEFINE_integer("num_bits", 8, "Bit depth the model sees.")
flags.DEFINE_bool(
    "data_autotune",
    True,
    "tf.data autotuning; --nodata_autotune avoids a stall of tens of seconds at epoch starts "
    "seen on CPU (TF 2.21 deleting the last epoch's iterator).",
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
flags.DEFINE_string("validation_split", "test", "Split for validation ('' for none).")
flags.DEFINE_string("test_split", "test", "Split of the final evaluation.")
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
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        lr_halve_every=FLAGS.lr_halve_every,
        lr_halve_after=tuple(int(e) for e in FLAGS.lr_halve_after),
        clipnorm=FLAGS.clipnorm,
        ema_momentum=FLAGS.ema_momentum,
        steps_per_epoch=FLAGS.steps_per_epoch,
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
        num_samples=FLAGS.num_samples,
        verbose=FLAGS.verbose,
    )


def main(argv):
    del argv
    from tfflows.training import configure_cpu_devices, train

    configure_cpu_devices(FLAGS.num_cpu_devices)  # before TensorFlow runs anything
    train(config_from_flags())


def run():
    """Console-script entry point (`tfflows-train`)."""
    app.run(main)


if __name__ == "__main__":
    run()
