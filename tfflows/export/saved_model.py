"""SavedModel export with TF Serving signatures for every tfflows model."""

import keras
import tensorflow as tf

from tfflows.layers import portable

__all__ = ["export_saved_model", "LOG_PROB_SEED"]

#: Seed of the noise inside the `log_prob` signature. Each image's noise is a
#: function of its pixels and this seed only (`tfflows.data.example_seeds`), so
#: the same image always gets the same numbers, alone or in any batch.
LOG_PROB_SEED = 0


def _check_sample_request(num_samples, temperature, max_samples):
    return [
        tf.debugging.assert_greater_equal(num_samples, 1, message="num_samples must be at least 1"),
        tf.debugging.assert_less_equal(
            num_samples, max_samples, message=f"num_samples must be at most {max_samples}"
        ),
        tf.debugging.Assert(
            tf.logical_and(tf.math.is_finite(temperature), temperature >= 0.0),
            ["temperature must be a finite number >= 0, got", temperature],
        ),
    ]


def _check_nonempty(tensor, what, name):
    # Shapes, dtypes and values are the model's checks (`check_images`, `check_latents`).
    return [tf.debugging.assert_positive(tf.shape(tensor)[0], message=f"{what}: empty {name}")]


def export_saved_model(model, path, max_samples=1024, verbose=False):
    """Writes `model` as a SavedModel for TF Serving, with an unknown batch size.

    Signatures (all with method `tensorflow/serving/predict`):
      - `sample` (also `serving_default`): `num_samples` int32 scalar in
        `[1, max_samples]`, `temperature` float32 scalar >= 0, `seed` int64
        scalar -> `images` float32 `[N, H, W, C]` in [0, 1]; the same seed gives
        the same images.
      - `log_prob`: `images` uint8 `[N, H, W, C]` -> `log_prob` float32 `[N]`
        (nats of the 8-bit images: exact for flows, the model's bound or joint
        otherwise, as `model.likelihood_kind` says) and `bits_per_dim` float32
        `[N]`, plus what the model's `serving_log_prob` adds. The
        noise uses the fixed seed `LOG_PROB_SEED`, per image: an image's
        numbers do not depend on the batch it comes in.
      - `encode` / `decode`, for models with a latent space: `images` uint8 ->
        `latents` float32, and `latents` -> `images` float32 in [0, 1].
      - `metadata`: no inputs -> `likelihood_kind` (what `log_prob` is: "exact",
        "elbo", "joint"), `dequantization` ("uniform", or "variational": Flow++'s
        learned `q(u | x)`, whose `log_prob` is a variational bound), `image_shape`,
        `num_bits`.

    Invalid requests fail with `InvalidArgument` errors that say what is wrong
    and leave the loaded model serving. The SavedModel needs only TensorFlow
    to load (not Keras, TFP or tfflows).

    The signatures are traced inside `tfflows.layers.portable()`: convolutions
    are TF's own ops, not the CPU formulations some layers train with, so
    the graphs do not depend on the machine that exported them.
    """
    with portable():
        return _export(model, path, max_samples, verbose)


def _export(model, path, max_samples, verbose):
    height, width, channels = model.image_shape
    archive = keras.export.ExportArchive()
    archive.track(model)

    def sample(num_samples, temperature, seed):
        with tf.control_dependencies(_check_sample_request(num_samples, temperature, max_samples)):
            images = model.sample(num_samples, temperature=temperature, seed=seed)
        return {"images": tf.cast(images, tf.float32)}

    archive.add_endpoint(
        "sample",
        sample,
        input_signature=[
            tf.TensorSpec([], tf.int32, name="num_samples"),
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.int64, name="seed"),
        ],
    )

    image_spec = tf.TensorSpec([None, height, width, channels], tf.uint8, name="images")

    def log_prob(images):
        with tf.control_dependencies(_check_nonempty(images, "log_prob", "images")):
            outputs = model.serving_log_prob(model.check_images(images), seed=LOG_PROB_SEED)
        return {name: tf.cast(value, tf.float32) for name, value in outputs.items()}

    archive.add_endpoint("log_prob", log_prob, input_signature=[image_spec])

    if getattr(model, "latent_shape", None) is not None:

        def encode(images):
            with tf.control_dependencies(_check_nonempty(images, "encode", "images")):
                return {"latents": tf.cast(model.encode(images), tf.float32)}

        def decode(latents):
            with tf.control_dependencies(_check_nonempty(latents, "decode", "latents")):
                return {"images": tf.cast(model.decode(latents), tf.float32)}

        archive.add_endpoint("encode", encode, input_signature=[image_spec])
        archive.add_endpoint(
            "decode",
            decode,
            input_signature=[
                tf.TensorSpec((None, *model.latent_shape), tf.float32, name="latents")
            ],
        )

    def metadata():
        return {
            "likelihood_kind": tf.constant(model.likelihood_kind),
            "dequantization": tf.constant(model.dequantization),
            "image_shape": tf.constant(model.image_shape, tf.int32),
            "num_bits": tf.constant(model.num_bits, tf.int32),
        }

    archive.add_endpoint("metadata", metadata, input_signature=[])
    archive.write_out(str(path), verbose=verbose)
    return path
