r"""Evaluates a trained model: bits/dim (saying which bound) and FID on a split.

  python -m trainers.evaluate --model_dir=runs/default --num_fid_samples=1000
  python -m trainers.evaluate --model_dir=runs/vae --num_importance_samples=4096
  python -m trainers.evaluate --saved_model=runs/default/saved_model \
      --dataset=mnist --data_dir=/path/to/mnist --num_fid_samples=10000
"""

import json
import pathlib
import sys

from absl import app, flags

FLAGS = flags.FLAGS

flags.DEFINE_string("model_dir", None, "Run directory; evaluates its best.keras checkpoint.")
flags.DEFINE_string("saved_model", None, "Or: an exported SavedModel (used via its signatures).")
flags.DEFINE_string("dataset", "digits", "Data set name.")
flags.DEFINE_string("data_dir", None, "TFDS data dir, or a directory of MNIST/Fashion IDX files.")
flags.DEFINE_integer("pad_to", None, "Zero-pad images as in training.")
flags.DEFINE_string("split", "test", "Split to evaluate on.")
flags.DEFINE_integer("batch_size", 100, "Images per batch.")
flags.DEFINE_integer("max_examples", None, "Only the first N images of the split.")
flags.DEFINE_integer("num_fid_samples", 0, "Generated images for FID (0: no FID).")
flags.DEFINE_float("temperature", 1.0, "Sampling temperature for FID.")
flags.DEFINE_integer("seed", 0, "Sampling seed.")
flags.DEFINE_string("fid_cache_dir", None, "Cache of the real split's Inception statistics.")
flags.DEFINE_string("output", None, "Write the results here as JSON.")
flags.DEFINE_integer(
    "num_importance_samples",
    1,
    "K > 1 also reports the importance-weighted bound IW_K beside the ELBO "
    "(latent-variable models, --model_dir only; VFlow uses K=4096).",
)
flags.DEFINE_integer(
    "samples_per_chunk", None, "IW samples per pass (memory); None: the model's default."
)


def main(argv):
    del argv
    if bool(FLAGS.model_dir) == bool(FLAGS.saved_model):
        raise app.UsageError("Pass exactly one of --model_dir and --saved_model.")
    from tfflows.training import SavedModelClient, evaluate

    if FLAGS.saved_model:
        model = SavedModelClient(FLAGS.saved_model)
    else:
        import keras

        import tfflows.models  # noqa: F401  (registers the model classes for loading)

        model = keras.models.load_model(pathlib.Path(FLAGS.model_dir) / "best.keras")
    results = evaluate(
        model,
        FLAGS.dataset,
        FLAGS.split,
        data_dir=FLAGS.data_dir,
        pad_to=FLAGS.pad_to,
        batch_size=FLAGS.batch_size,
        max_examples=FLAGS.max_examples,
        num_fid_samples=FLAGS.num_fid_samples,
        temperature=FLAGS.temperature,
        seed=FLAGS.seed,
        fid_cache_dir=FLAGS.fid_cache_dir,
        num_importance_samples=FLAGS.num_importance_samples,
        samples_per_chunk=FLAGS.samples_per_chunk,
    )
    print(json.dumps(results, indent=2, sort_keys=True))
    if results.get("nonfinite_samples"):
        print(
            f"warning: {results['nonfinite_samples']} of {results['num_fid_samples']} samples "
            "have NaN or infinite pixels (counted as black or white in the FID)",
            file=sys.stderr,
        )
    if FLAGS.output:
        pathlib.Path(FLAGS.output).write_text(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    app.run(main)
