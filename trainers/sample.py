r"""Writes a PNG grid of samples from an exported SavedModel, with TensorFlow only.

  python -m trainers.sample --saved_model=runs/default/saved_model --output=samples.png
  python -m trainers.sample --saved_model=... --temperatures=0,0.5,0.7,1 --output=sweep.png

Uses the `sample` signature as a TF Serving client would; imports neither
Keras nor TFP (only `tfflows.visualization`: NumPy and Pillow).
"""

from absl import app, flags

FLAGS = flags.FLAGS

flags.DEFINE_string("saved_model", None, "Exported SavedModel directory.", required=True)
flags.DEFINE_string("output", "samples.png", "PNG file to write.")
flags.DEFINE_integer("num_samples", 64, "Images (per temperature in a sweep).")
flags.DEFINE_float("temperature", 1.0, "Sampling temperature.")
flags.DEFINE_list("temperatures", [], "A temperature sweep instead: one row per temperature.")
flags.DEFINE_integer("seed", 0, "Sampling seed (the same seed gives the same images).")
flags.DEFINE_integer("scale", 4, "Pixel magnification in the PNG.")


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from tfflows import visualization

    sample_signature = tf.saved_model.load(FLAGS.saved_model).signatures["sample"]

    def sample(num_samples, temperature):
        return sample_signature(
            num_samples=tf.constant(num_samples, tf.int32),
            temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(FLAGS.seed, tf.int64),
        )["images"].numpy()

    if FLAGS.temperatures:
        rows = [sample(FLAGS.num_samples, float(t)) for t in FLAGS.temperatures]
        images, num_rows = np.concatenate(rows), len(rows)
    else:
        images, num_rows = sample(FLAGS.num_samples, FLAGS.temperature), None
    visualization.save_sample_grid(
        images, FLAGS.output, num_rows=num_rows, scale=FLAGS.scale, value_range=(0.0, 1.0)
    )
    print(f"wrote {images.shape[0]} samples to {FLAGS.output}")


if __name__ == "__main__":
    app.run(main)
