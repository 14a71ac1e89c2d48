r"""Writes a PNG grid of samples from an exported SavedModel, with TensorFlow only.

  python -m trainers.sample --saved_model=runs/default/saved_model  # runs/default/samples_T1.png
  python -m trainers.sample --saved_model=... --temperatures=0,0.5,0.7,1 --output=sweep.png

A temperature sweep is one row per temperature (8 images each unless
--num_samples says up to 16). Without --output the PNG goes next to the
SavedModel. Uses the `sample` signature as a TF Serving client would; imports
neither Keras nor TFP (only `tfflows.visualization`: NumPy and Pillow).
"""

import pathlib
import sys

from absl import app, flags

from tfflows.temperatures import parse_temperatures, register_flag_validator
from trainers.quiet import import_tensorflow_quietly

FLAGS = flags.FLAGS

MAX_PER_TEMPERATURE = 16

flags.DEFINE_string("saved_model", None, "Exported SavedModel directory.", required=True)
flags.DEFINE_string(
    "output", None, "PNG file to write (default: next to the SavedModel, named after the run)."
)
flags.DEFINE_integer(
    "num_samples", None, "Images: 64 in a grid, 8 per temperature in a sweep (at most 16)."
)
flags.DEFINE_float("temperature", 1.0, "Sampling temperature.")
flags.DEFINE_list("temperatures", [], "A temperature sweep instead: one row per temperature.")
flags.DEFINE_integer("seed", 0, "Sampling seed (the same seed gives the same images).")
flags.DEFINE_integer("scale", 4, "Pixel magnification in the PNG.")


register_flag_validator("temperatures")
flags.register_validator(
    "num_samples", lambda n: n is None or n >= 1, "--num_samples must be at least 1"
)


def default_output(saved_model, temperatures, temperature):
    """`<parent of the SavedModel>/samples_T<t>.png`, or `temperature_sweep.png` for a sweep."""
    parent = pathlib.Path(saved_model).resolve().parent
    name = "temperature_sweep.png" if temperatures else f"samples_T{temperature:g}.png"
    return parent / name


def parse_flags(argv):
    try:
        rest = FLAGS(argv)
    except flags.Error as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    if FLAGS.temperatures and (FLAGS.num_samples or 0) > MAX_PER_TEMPERATURE:
        print(
            f"error: --num_samples={FLAGS.num_samples}: a sweep row holds at most "
            f"{MAX_PER_TEMPERATURE} images",
            file=sys.stderr,
        )
        sys.exit(2)
    return rest


def main(argv):
    del argv
    import_tensorflow_quietly()
    import tensorflow as tf

    from tfflows import visualization
    from tfflows.metrics.finite_samples import count_nonfinite_images

    sample_signature = tf.saved_model.load(FLAGS.saved_model).signatures["sample"]

    nonfinite = []

    def sample(num_samples, temperature):
        images = sample_signature(
            num_samples=tf.constant(num_samples, tf.int32),
            temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(FLAGS.seed, tf.int64),
        )["images"].numpy()
        nonfinite.append(count_nonfinite_images(images))
        return images

    output = FLAGS.output or default_output(
        FLAGS.saved_model, FLAGS.temperatures, FLAGS.temperature
    )
    options = dict(scale=FLAGS.scale, value_range=(0.0, 1.0))
    if FLAGS.temperatures:
        num_samples = FLAGS.num_samples or 8
        sweep = parse_temperatures(FLAGS.temperatures)  # validated when the flags were parsed
        visualization.save_temperature_sweep(
            sample, sweep, output, num_samples=num_samples, **options
        )
        count = num_samples * len(FLAGS.temperatures)
    else:
        count = FLAGS.num_samples or 64
        visualization.save_sample_grid(sample(count, FLAGS.temperature), output, **options)
    print(f"wrote {count} samples to {output}")
    if sum(nonfinite):
        print(
            f"warning: {sum(nonfinite)} of {count} samples have NaN or infinite pixels "
            "(shown black)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
