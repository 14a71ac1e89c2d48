"""The Keras model interface shared by every tfflows generative model."""

import math

import keras
import tensorflow as tf

from tfflows.layers import UniformDequantization, standard_normal
from tfflows.metrics.likelihood import bits_per_dim, discrete_log_likelihood
from tfflows.optimizers import FusedAdam

__all__ = ["GenerativeModel", "images_from_batch", "input_dtype", "max_halvings"]


def max_halvings(image_shape, maximum):
    """How many times (at most `maximum`) both image sides can be halved exactly."""
    height, width = image_shape[0], image_shape[1]
    count = 0
    while count < maximum and height % 2 ** (count + 1) == 0 and width % 2 ** (count + 1) == 0:
        count += 1
    return count


def input_dtype(dtype):
    """The compute dtype of a Keras dtype policy (None: the global one), for `keras.Input`."""
    return None if dtype is None else keras.dtype_policies.get(dtype).compute_dtype


def images_from_batch(data):
    """The images of a batch: a tensor, a TFDS-style `{"image": ...}` dict, or `(image, label)`."""
    if isinstance(data, dict):
        return data["image"]
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


class GenerativeModel(keras.Model):
    """Base of every model: one Keras workflow, one likelihood and sampling API.

    Inputs are uint8 images `[N, H, W, C]` (8-bit). Each model sees them in
    the continuous model space `y = (x_n + u) / 2^n - 0.5` of
    `layers.UniformDequantization` and reports likelihoods of the discrete
    images in nats, via `metrics.discrete_log_likelihood`.

    Subclasses implement:
      - `per_example_terms(images, training=False, seed=None)`: a dict of
        per-example tensors `[N]`, one per name in `terms`, with at least
        `"loss"` (what training minimises, averaged over the batch) and
        `"log_likelihood"` (nats of the discrete image: exact, or the model's
        bound); the others (KL, reconstruction, ...) are logged as metrics
        of the same name, with `bits_per_dim` of the log-likelihood.
      - `sample(num_samples, temperature=1.0, seed=None)`: float32 `[N, H, W, C]` in [0, 1].
      - `get_config()` with `image_shape` and the hyper-parameters.
    and may override `log_prob` (e.g. for importance sampling) and
    `initialize` (data-dependent initialisation).

    `compile(jit_compile=True)` compiles the loss-and-gradient computation
    with XLA inside `train_step`, which keeps working under `tf.distribute`
    (Keras' own `jit_compile=True` fails under MirroredStrategy).
    """

    #: "exact" for flows; "elbo" for latent-variable models' bounds; "joint" for GLF.
    likelihood_kind = "exact"
    #: Shape of the latent of `encode`/`decode`, or None for models without one.
    latent_shape = None
    #: Names of the per-example terms `per_example_terms` returns (logged as epoch means).
    terms = ("loss", "log_likelihood")

    def __init__(self, image_shape, num_bits=8, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        if len(self.image_shape) != 3:
            raise ValueError(f"image_shape must be (H, W, C), got {image_shape}.")
        self.num_bits = int(num_bits)
        self.num_dims = math.prod(self.image_shape)
        self.dequantize = UniformDequantization(num_bits, name="dequantize")
        # Trackers exist before any step is traced: metrics own variables.
        self._trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "bits_per_dim", *self.terms)
        }
        self.xla = False
        self._loss_and_grads_fn = None

    # -- likelihood and sampling -------------------------------------------------------------

    def to_model_space(self, images, seed=None):
        """uint8 images to dequantized model-space floats (checks the shape)."""
        images = tf.convert_to_tensor(images)
        if images.shape[1:] != self.image_shape and images.shape.rank is not None:
            raise ValueError(
                f"Expected images of shape [N, {self.image_shape}], got {images.shape}."
            )
        return self.dequantize(images, seed=seed)

    def model_space(self, images, seed=None):
        """Dequantized model-space images in the model's compute dtype (float64 for checks)."""
        return tf.cast(self.to_model_space(images, seed=seed), self.compute_dtype)

    def latent_noise(self, batch_size, event_shape, seed=None):
        """`N(0, I)` noise `[batch_size, *event_shape]` in the compute dtype.

        A given seed is offset by one, so the noise differs from the
        dequantization noise drawn with the same seed.
        """
        shape = tf.concat([tf.reshape(batch_size, [1]), event_shape], axis=0)
        seed = None if seed is None else tf.cast(seed, tf.int64) + 1
        return standard_normal(shape, seed, self.compute_dtype)

    def unit_images(self, images, seed=None):
        """uint8 images to dequantized floats in [0, 1] (model space + 0.5): sigmoid decoders."""
        return self.to_model_space(images, seed=seed) + 0.5

    def discrete_log_likelihood(self, log_density):
        """Nats of the discrete n-bit image from the density of its model-space value."""
        return discrete_log_likelihood(log_density, self.num_dims, self.num_bits)

    def log_prob(self, images, seed=None):
        """Per-example log-likelihood (nats) of uint8 images; see `likelihood_kind`."""
        return self.per_example_terms(images, training=False, seed=seed)["log_likelihood"]

    def bits_per_dim(self, images, seed=None):
        """Per-example bits/dim of uint8 images."""
        return bits_per_dim(self.log_prob(images, seed=seed), self.num_dims)

    def serving_log_prob(self, images, seed=None):
        """The `log_prob` signature's outputs: `log_prob` and `bits_per_dim` per example."""
        log_prob = self.log_prob(images, seed=seed)
        return {"log_prob": log_prob, "bits_per_dim": bits_per_dim(log_prob, self.num_dims)}

    def per_example_terms(self, images, training=False, seed=None):
        raise NotImplementedError

    def sample(self, num_samples, temperature=1.0, seed=None):
        raise NotImplementedError

    def initialize(self, images):
        """Data-dependent initialisation from one batch of uint8 images (eager, once).

        Call it after building under `strategy.scope()` and before `fit`; with
        several workers pass every worker the same batch. Models without
        data-dependent parameters do nothing.
        """
        del images

    def call(self, images, training=False):
        return self.per_example_terms(images, training=training)["log_likelihood"]

    # -- Keras training ------------------------------------------------------------------------

    def make_optimizer(self, learning_rate, clipnorm=None, **kwargs):
        """The optimizer the paper trains this model with (Adam unless a model says otherwise).

        `kwargs` go to the Keras optimizer, e.g. `use_ema=True, ema_momentum=0.999`
        for a moving average of the weights (`tfflows.training.moving_average_weights`).
        """
        return FusedAdam(learning_rate, clipnorm=clipnorm, **kwargs)

    def compile(self, optimizer="adam", jit_compile=False, **kwargs):
        """As `keras.Model.compile`; `jit_compile=True` compiles the loss and gradients.

        `jit_compile="auto"` uses XLA when a GPU is present.
        """
        if jit_compile == "auto":
            jit_compile = bool(tf.config.list_physical_devices("GPU"))
        self.xla = bool(jit_compile)
        self._loss_and_grads_fn = None
        super().compile(optimizer=optimizer, jit_compile=False, **kwargs)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config:
            config["jit_compile"] = self.xla
        return config

    def compile_from_config(self, config):
        # Keras skips this for models that override compile(); a loaded .keras
        # model comes back compiled, with its optimizer state.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def optimized_variables(self):
        """The variables a training step updates (models trained in phases narrow it)."""
        return self.trainable_variables

    def training_callbacks(self, epochs):
        """Callbacks a `fit` of `epochs` epochs needs for this model's schedule (e.g. phases)."""
        del epochs
        return []

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _track(self, means):
        for name, value in means.items():
            self._trackers[name].update_state(value)
        results = {name: tracker.result() for name, tracker in self._trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras reduces logs over axis 0 there, which scalars lack (tensorflow#72388).
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    def _batch_terms(self, images, training):
        terms = self.per_example_terms(images, training=training)
        means = {name: tf.reduce_mean(value) for name, value in terms.items()}
        means["bits_per_dim"] = tf.reduce_mean(bits_per_dim(terms["log_likelihood"], self.num_dims))
        return means

    def _loss_and_grads(self, images):
        with tf.GradientTape() as tape:
            means = self._batch_terms(images, training=True)
            # Gradients are summed over replicas, so each replica's mean is
            # divided by their number (Keras does this only for its own losses).
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = means["loss"] / tf.cast(replicas, means["loss"].dtype)
        return means, tape.gradient(scaled, self.optimized_variables())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras would average a data batch over the replicas to build the model
        # symbolically, and MultiWorkerMirroredStrategy has no uint8 collectives.
        # Every weight exists from construction: only the optimizer is left.
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=())

    def train_step(self, data):
        images = images_from_batch(data)
        if self._loss_and_grads_fn is None:
            self._loss_and_grads_fn = tf.function(self._loss_and_grads, jit_compile=self.xla)
        means, grads = self._loss_and_grads_fn(images)
        self.optimizer.apply(grads, self.optimized_variables())
        return self._track(means)

    def test_step(self, data):
        return self._track(self._batch_terms(images_from_batch(data), training=False))

    def reset_metrics(self):
        for tracker in self._trackers.values():
            tracker.reset_state()

    def get_config(self):
        return {"image_shape": self.image_shape, "num_bits": self.num_bits, "name": self.name}
