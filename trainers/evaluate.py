r"""Evaluates a trained model: bits/dim (saying which bound) and FID on a split.

  python -m trainers.evaluate --model_dir=runs/default --num_fid_samples=1000
  python -m trainers.evaluate --model_dir=runs/vae --num_importance_samples=4096
  python -m trainers.evaluate --saved_model=runs/default/saved_model \
      --dataset=mnist --data_dir=/path/to/mnist --num_fid_samples=10000
  python -m trainers.evaluate --model_dir=runs/glow --num_fid_samples=10000 \
      --select_temperatures=0.5,0.7,0.8,1  # T chosen by FID on validation, reported on test
"""

import json
import pathlib
import sys

from absl import app, flags

from tfflows.temperatures import parse_temperatures, register_flag_validator

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
flags.DEFINE_list(
    "select_temperatures",
    [],
    "Candidate temperatures scored by FID on the validation split (--num_fid_samples samples "
    "each); the best replaces --temperature. Never chosen on --split.",
)
register_flag_validator("select_temperatures")
flags.DEFINE_integer("seed", 0, "Sampling seed.")
flags.DEFINE_string("fid_cache_dir", None, "Cache of the real split's Inception statistics.")
flags.DEFINE_enum(
    "fid_method",
    "sqrtm",
    ["sqrtm", "eigh"],
    "FID's matrix square root: sqrtm (the references') or eigh (equal up to rounding, faster).",
)
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
    from tfflows.training import SavedModelClient, evaluate, select_temperature

    candidates = ()
    if FLAGS.select_temperatures:
        candidates = parse_temperatures(FLAGS.select_temperatures, "--select_temperatures")
        if not FLAGS.num_fid_samples:
            raise app.UsageError("--select_temperatures needs --num_fid_samples > 0.")

    if FLAGS.saved_model:
        model = SavedModelClient(FLAGS.saved_model)
    else:
        import keras

        import tfflows.models  # noqa: F401  (registers the model classes for loading)

        model = keras.models.load_model(pathlib.Path(FLAGS.model_dir) / "best.keras")
    common = dict(
        data_dir=FLAGS.data_dir,
        pad_to=FLAGS.pad_to,
        batch_size=FLAGS.batch_size,
        max_examples=FLAGS.max_examples,
        seed=FLAGS.seed,
        fid_cache_dir=FLAGS.fid_cache_dir,
        fid_method=FLAGS.fid_method,
    )
    temperature, selection = FLAGS.temperature, None
    if candidates:
        selection = select_temperature(
            model, FLAGS.dataset, candidates, num_samples=FLAGS.num_fid_samples, **common
        )
        temperature = selection["temperature"]
    results = evaluate(
        model,
        FLAGS.dataset,
        FLAGS.split,
        num_fid_samples=FLAGS.num_fid_samples,
        temperature=temperature,
        num_importance_samples=FLAGS.num_importance_samples,
        samples_per_chunk=FLAGS.samples_per_chunk,
        **common,
    )
    if selection:
        results["temperature_selection"] = selection
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
