"""The Keras model interface shared by every tfflows generative model."""

import math

import keras
import tensorflow as tf

from tfflows._internals import NoSymbolicBuildFromData
from tfflows.data.dequantization import example_seeds, per_example_noise, stream_seeds
from tfflows.layers import UniformDequantization, make_dequantizer, standard_normal
from tfflows.metrics.bounds import chunked_importance_weighted_bound
from tfflows.metrics.likelihood import bits_per_dim, discrete_log_likelihood
from tfflows.optimizers import FusedAdam

__all__ = ["GenerativeModel", "images_from_batch", "input_dtype", "max_halvings"]

#: Rows (samples x examples) one chunk of an importance-weighted bound evaluates at most.
IMPORTANCE_ROWS_PER_CHUNK = 256


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


def _shape_check(tensor, event_shape, name):
    """An assertion that `tensor` is `[N, *event_shape]` at run time (any rank is compared)."""
    # The declared (static) shape is folded into size/rank ops, so read the run-time shape's
    # values only: padded with -1, its entries 1..R must be the event shape and then -1.
    shape = tf.shape(tensor)
    rank = 1 + len(event_shape)
    padded = tf.concat([shape, tf.fill([rank + 1], -1)], axis=0)[1 : rank + 1]
    ok = tf.reduce_all(tf.equal(padded, tf.constant([*event_shape, -1], tf.int32)))
    expected = f"[N, {', '.join(map(str, event_shape))}]"
    return tf.debugging.Assert(ok, [f"{name} must have shape {expected}, got", shape])


def _positive_int(value, name):
    try:
        ok = not isinstance(value, bool) and int(value) == value and int(value) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


class GenerativeModel(NoSymbolicBuildFromData, keras.Model):
    """Base of every model: one Keras workflow, one likelihood and sampling API.

    Inputs are uint8 images `[N, H, W, C]` (8-bit; other integer dtypes are
    accepted with values in 0..255, floats are refused: `check_images`). Each
    model sees them in the continuous model space `y = (x_n + u) / 2^n - 0.5`
    of `layers.UniformDequantization` and reports likelihoods of the discrete
    images in nats, via `metrics.discrete_log_likelihood`. Flow models take
    `dequantization="variational"` (`_set_dequantization`): `u ~ q(u | x)`, a
    learned `layers.VariationalDequantization`, and their `log_prob` is then
    Flow++'s variational bound (`likelihood_kind` "elbo", with its IW bound).

    Noise and seeds: with `seed=None` every draw is fresh (training). With a
    seed, the dequantization noise of an image and its latent samples are
    functions of that image's pixels and the seed alone (`data.example_seeds`:
    stream 0 dequantizes, stream `1 + k` is the k-th posterior sample), so a
    score does not depend on the batch the image comes in, nor on how an
    importance-weighted bound is chunked.

    Subclasses implement:
      - `per_example_terms(images, training=False, seed=None)`: a dict of
        per-example tensors `[N]`, one per name in `terms`, with at least
        `"loss"` (what training minimises, averaged over the batch: always
        `loss_from_objective(objective)`, bits per dimension) and
        `"log_likelihood"` (nats of the discrete image: exact, or the model's
        bound); the others (KL, reconstruction, ...) are logged as metrics
        of the same name, with `bits_per_dim` of the log-likelihood.
      - `sample(num_samples, temperature=1.0, seed=None)`: float32 `[N, H, W, C]` in [0, 1].
      - `get_config()` with `image_shape` and the hyper-parameters.
    and may override `initialize` (data-dependent initialisation).
    Latent-variable models (`likelihood_kind = "elbo"`) implement
    `importance_log_weights(y, seeds)`, the per-row `log p(y, z) - log q(z|y)`
    with `z` drawn from the per-row seeds (None: fresh), and `log_prob(...,
    num_importance_samples=K)` gives their IW bound. With a variational
    dequantizer the rows are the uint8 images (`bound_inputs`) and the
    weights include `- log q(u | x)`, `u` drawn from the same row seeds.

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
    #: "uniform", or "variational" for a flow built with a learned `q(u | x)`.
    dequantization = "uniform"
    #: That `layers.VariationalDequantization`, or None (uniform dequantization).
    dequantizer = None

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

    def _set_dequantization(
        self,
        dequantization,
        steps,
        hidden_units,
        context_channels,
        seed,
        dtype=None,
        coupling="affine",
        network="conv",
        blocks=2,
    ):
        """A flow model's `dequantization` argument and the sizes of its `q(u | x)`.

        "variational" builds the dequantizer (in `dtype`, the policy of the flow
        it feeds; None: the model's), with the model's `coupling` kind and
        coupling `network` (and its `blocks`), and makes `log_prob` Flow++'s
        bound (section 3.1, eq. 12): `likelihood_kind` "elbo", with `IW_K` for K > 1.
        """
        dequantizer = make_dequantizer(
            dequantization,
            self.image_shape,
            self.num_bits,
            steps,
            hidden_units,
            context_channels,
            seed=seed,
            dtype=self.dtype_policy if dtype is None else dtype,
            coupling=coupling,
            network=network,
            num_hidden_layers=blocks,
        )
        self.dequantization = dequantization
        self.dequantization_steps = int(steps)
        self.dequantization_hidden_units = int(hidden_units)
        self.dequantization_context_channels = int(context_channels)
        if dequantizer is not None:
            self.dequantizer = dequantizer
            self.likelihood_kind = "elbo"

    def _dequantization_config(self):
        return {
            "dequantization": self.dequantization,
            "dequantization_steps": self.dequantization_steps,
            "dequantization_hidden_units": self.dequantization_hidden_units,
            "dequantization_context_channels": self.dequantization_context_channels,
        }

    # -- likelihood and sampling -------------------------------------------------------------

    def check_images(self, images, name="images"):
        """`images` as a uint8 tensor, refusing floats, wrong shapes and values outside 0..255.

        Floats are refused rather than guessed at (`x / 255` and `x` would both
        pass a cast); wrong static shapes raise `ValueError`, values and
        dynamic shapes `InvalidArgumentError`, each message naming `name`.
        """
        images = tf.convert_to_tensor(images)
        expected = f"[N, {', '.join(map(str, self.image_shape))}]"
        if not images.dtype.is_integer:
            raise ValueError(
                f"{name} must be integer pixel values in [0, 255] (uint8), got dtype "
                f"{images.dtype.name}: pass the 8-bit images, not floats."
            )
        rank = images.shape.rank
        if rank is not None and (
            rank != 4
            or any(d is not None and d != e for d, e in zip(images.shape[1:], self.image_shape))
        ):
            raise ValueError(f"{name} must have shape {expected}, got {images.shape}.")
        # A signature's declared shape is not enforced on what is fed: check at run time too.
        checks = [_shape_check(images, self.image_shape, name)]
        if images.dtype != tf.uint8:
            message = f"{name} must have pixel values in [0, 255]"
            checks += [
                tf.debugging.assert_greater_equal(images, tf.cast(0, images.dtype), message),
                tf.debugging.assert_less_equal(images, tf.cast(255, images.dtype), message),
            ]
        with tf.control_dependencies(checks):
            # Checked first; the static shape then lets traced callers build on it.
            return tf.ensure_shape(
                tf.identity(tf.cast(images, tf.uint8)), (None, *self.image_shape)
            )

    def check_latents(self, latents, name="latents"):
        """`latents` as a float tensor `[N, *latent_shape]`, refusing other shapes and NaN/inf."""
        latents = tf.convert_to_tensor(latents)
        expected = f"[N, {', '.join(map(str, self.latent_shape))}]"
        if not latents.dtype.is_floating:
            raise ValueError(f"{name} must be floats, got dtype {latents.dtype.name}.")
        rank = latents.shape.rank
        if rank is not None and (
            rank != 1 + len(self.latent_shape)
            or any(d is not None and d != e for d, e in zip(latents.shape[1:], self.latent_shape))
        ):
            raise ValueError(f"{name} must have shape {expected}, got {latents.shape}.")
        with tf.control_dependencies([_shape_check(latents, self.latent_shape, name)]):
            latents = tf.debugging.assert_all_finite(
                latents, f"{name} must be finite (no NaN or inf)"
            )
        return tf.ensure_shape(latents, (None, *self.latent_shape))

    def to_model_space(self, images, seed=None):
        """uint8 images to dequantized model-space floats (`check_images` first).

        With a seed, each image's noise depends on its pixels and the seed only.
        """
        return self.dequantize(self.check_images(images), seed=seed)

    def model_space(self, images, seed=None):
        """Dequantized model-space images in the dtype of the model's variables.

        float64 for exact checks; float32 under mixed precision, where the
        networks compute in bfloat16/float16 and the likelihood stays float32.
        """
        return tf.cast(self.to_model_space(images, seed=seed), self.variable_dtype)

    def noise_seeds(self, images, seed, sample=0):
        """Per-example seeds `[N, 2]` of the latent noise of sample `sample`; None if `seed` is.

        Stream `1 + sample` of `data.example_seeds(images, seed)`: a function of
        each image, the seed and `sample` only (stream 0 is the dequantization's).
        """
        if seed is None:
            return None
        images = self.check_images(images)
        return stream_seeds(example_seeds(images, seed), [1 + sample])[0]

    def latent_noise(self, batch_size, event_shape, seed=None):
        """`N(0, I)` noise `[batch_size, *event_shape]` in the compute dtype.

        `seed` is None (fresh), per-example seeds `[N, 2]` (`noise_seeds`: row
        n from `seed[n]` alone), or one seed for the whole batch (an int or
        `[2]`; offset by one, so the noise differs from the dequantization
        noise drawn with the same seed).
        """
        if seed is not None and tf.convert_to_tensor(seed).shape.rank == 2:
            return per_example_noise(seed, event_shape, "normal", self.compute_dtype)
        shape = tf.concat([tf.reshape(batch_size, [1]), event_shape], axis=0)
        seed = None if seed is None else tf.cast(seed, tf.int64) + 1
        return standard_normal(shape, seed, self.compute_dtype)

    def unit_images(self, images, seed=None):
        """uint8 images to dequantized floats in [0, 1] (model space + 0.5): sigmoid decoders."""
        return self.to_model_space(images, seed=seed) + 0.5

    def discrete_log_likelihood(self, log_density):
        """Nats of the discrete n-bit image from the density of its model-space value."""
        return discrete_log_likelihood(log_density, self.num_dims, self.num_bits)

    def log_prob(self, images, seed=None, num_importance_samples=1, samples_per_chunk=None):
        """Per-example log-likelihood (nats) of uint8 images; see `likelihood_kind`.

        Args:
          images: uint8 `[N, H, W, C]` (`check_images`).
          seed: None for fresh noise; an int (or shape-[2] seed) makes each
            image's score a function of the image and the seed alone, the same
            in any batch (the SavedModel's `log_prob` uses seed 0).
          num_importance_samples: K; K > 1 gives the importance-weighted bound
            `IW_K` (Burda et al.) of latent-variable models (`likelihood_kind`
            "elbo", variationally dequantized flows too), K = 1 their ELBO.
            Other models accept only 1.
          samples_per_chunk: samples evaluated per pass for K > 1 (None: as many
            as keep a pass within `IMPORTANCE_ROWS_PER_CHUNK` rows); memory is
            bounded by one chunk, and the value does not depend on it.
        """
        k = _positive_int(num_importance_samples, "num_importance_samples")
        if k == 1:
            return self.per_example_terms(images, training=False, seed=seed)["log_likelihood"]
        if self.likelihood_kind != "elbo":
            raise ValueError(
                f"num_importance_samples={k} needs a latent-variable model (likelihood_kind "
                f"'elbo'); {self.name}'s log_prob is {self.likelihood_kind!r}: pass 1."
            )
        images = self.check_images(images)
        if samples_per_chunk is None:
            rows = images.shape[0] or IMPORTANCE_ROWS_PER_CHUNK
            samples_per_chunk = max(1, IMPORTANCE_ROWS_PER_CHUNK // rows)
        chunk = _positive_int(samples_per_chunk, "samples_per_chunk")
        if not tf.executing_eagerly():
            return self._importance_weighted_log_prob(images, seed, k, chunk)
        # Eagerly, one traced function per (K, chunk, seeded) runs the chunks as a graph loop.
        key = (k, chunk, seed is None)
        # Kept outside Keras' attribute tracking; `forget_traces` drops them.
        functions = self.__dict__.setdefault("_iw_functions", {})
        if key not in functions:
            functions[key] = tf.function(
                lambda images, seed: self._importance_weighted_log_prob(images, seed, k, chunk),
                reduce_retracing=True,
            )
        seed = None if seed is None else tf.cast(seed, tf.int64)
        return functions[key](images, seed)

    def _importance_weighted_log_prob(self, images, seed, num_samples, samples_per_chunk):
        y = self.bound_inputs(images, seed)
        seeds = None if seed is None else example_seeds(images, seed)
        batch = tf.shape(y)[0]

        def chunk_log_weights(first, count):
            multiples = tf.concat([[count], tf.ones([tf.rank(y) - 1], tf.int32)], axis=0)
            row_seeds = None
            if seeds is not None:  # sample k of example n: stream 1 + k of its seeds
                streams = 1 + first + tf.range(count)
                row_seeds = tf.reshape(stream_seeds(seeds, streams), [-1, 2])
            log_weights = self.importance_log_weights(tf.tile(y, multiples), row_seeds)
            return tf.reshape(log_weights, [count, batch])

        bound = chunked_importance_weighted_bound(chunk_log_weights, num_samples, samples_per_chunk)
        return self.discrete_log_likelihood(bound.value)

    def forget_traces(self):
        """Drops traced bound functions (call it when Python state they read changes)."""
        self.__dict__.pop("_iw_functions", None)

    def bound_inputs(self, images, seed=None):
        """What `importance_log_weights` takes as `y`: the model-space images by default.

        With a variational dequantizer, the checked uint8 images: each row's `u`
        is drawn with its other noise, from its own seed.
        """
        if self.dequantizer is not None:
            return self.check_images(images)
        return self.model_space(images, seed=seed)

    def importance_log_weights(self, y, seeds=None):
        """Per row: `log p(y, z) - log q(z | y)`, `z ~ q(z | y)` drawn from the row's seed."""
        raise NotImplementedError(f"{type(self).__name__} has no importance-weighted bound.")

    def loss_from_objective(self, objective):
        """Every model's `loss`: its objective in bits per dimension, `-objective / (D log 2)`.

        `objective` is per example, in nats, and maximised by training: the
        log-likelihood of the discrete image or its bound for most models, GLF's
        `log p(z) - beta * reconstruction`, the VAE with a flow prior's continuous
        ELBO. One unit for `loss` across models (bits per dimension), so logs and
        learning rates compare; models whose papers set optimizer constants
        (epsilon, L2) for a loss in nats per example convert them in
        `make_optimizer` (`nats_per_loss_unit`).
        """
        return bits_per_dim(objective, self.num_dims)

    @property
    def nats_per_loss_unit(self):
        """`D log 2`: a `loss` of 1 is this many nats per example."""
        return self.num_dims * math.log(2.0)

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

    def decode(self, latents):
        """Latents `[N, *latent_shape]` to float32 images in [0, 1] (`check_latents` first)."""
        if self.latent_shape is None:
            raise NotImplementedError(f"{type(self).__name__} has no latent space to decode.")
        return self._decode(self.check_latents(latents))

    def _decode(self, latents):
        """`decode` without the checks (sampling's own latents may overflow at high T)."""
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
        # Keras' own part (name, trainable, dtype policy): without it a `.keras`
        # round trip reloaded a float64 or mixed-precision model as float32.
        base = keras.layers.Layer.get_config(self)
        return {**base, "image_shape": self.image_shape, "num_bits": self.num_bits}
