"""VFlow (Chen et al., ICML 2020) for vectors: a dense flow over `(x, z)`, the slides' toy model.

A flow over `x` in R^D keeps every intermediate representation D-dimensional
(the slides' "bottleneck problem"). VFlow augments `x` with `z` in R^{D_z} and
runs one flow `f` over `(x, z)` in R^{D + D_z}:

    log p(x, z) = log N(f^-1(x, z); 0, I) + log|det d f^-1(x, z) / d(x, z)|.

The density of `x` is the marginal `p(x) = int p(x, z) dz`, bounded with a
conditional flow `q(z | x)` ("Estimation" slide):

    log p(x) >= E_{q(z|x)}[log p(x, z) - log q(z | x)]                       (ELBO)
    log p(x) >= E[log (1/K) sum_k p(x, z_k) / q(z_k | x)],  z_k ~ q(z | x)   (IW_K)

with `z = g(u; x)`, `u ~ N(0, I_{D_z})`, `g` invertible in `u` for every `x`, so
`log q(z | x) = log N(u; 0, I) - log|det dg(u; x)/du|`. Training minimises
minus the ELBO over `f` and `q` jointly, one `u` per example. `IW_K` (Burda et
al., 2016) tightens towards `log p(x)` as K grows. With `augmented_dims=0`
there is no `z`: the model is the flow `f` over `x` alone and every bound is
its exact log-likelihood, so one class gives VFlow and its flow baselines.

Both `f` and `g` are `layers.DenseGlow`: steps of actnorm, an invertible D x D
matrix and an affine coupling with a fully connected network (one step = one
coupling). `g`'s couplings take `x` concatenated to their input; their last
layers start at zero and their scale is "tanh", so a new `q(z | x)` is
`N(0, I)` (the slides' theorem: with `p(x, z) = p(x) N(z)` the bound is exact).

Why not the image `models.VFlow`'s code: that model is a `GenerativeModel`,
whose contract is uint8 images, dequantization and discrete likelihoods in
bits/dim, seeds hashed from pixels; here the data are real vectors with a
continuous density. What the two share is below that contract: the coupling
and Glow-step layers (`GlowStep(network="dense")`) and `standard_normal_log_prob`.
`bounds` streams `IW_K` over chunks of samples as `metrics.chunked_importance_weighted_bound`
does, carrying the ELBO of the same samples along.

Sampling: `(x, z) = f(eps)` and keep `x`.
"""

import keras
import tensorflow as tf

from tfflows.layers import DenseGlow
from tfflows.models.gaussian import standard_normal_log_prob

__all__ = ["VectorVFlow"]

#: Rows (samples x examples) one chunk of the IW bound evaluates at most (vectors are small).
ROWS_PER_CHUNK = 65536


def _int_at_least(value, minimum, name):
    try:
        ok = not isinstance(value, bool) and int(value) == value and int(value) >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


@keras.saving.register_keras_serializable(package="tfflows")
class VectorVFlow(keras.Model):
    """VFlow over vectors `[D]`: a dense Glow over `(x, z)` and a conditional flow `q(z | x)`.

    Args:
      event_size: D, the data's dimension.
      augmented_dims: D_z (0: the plain flow over `x`, exact likelihood; else >= 2).
      num_steps: steps (couplings) of the flow `f`.
      hidden_units, num_hidden_layers: its coupling networks.
      scale_activation: scale of its affine couplings (see `bijectors.AffineCoupling`;
        "atan" fitted the 2-D checkerboard best, `benchmarks/vflow_toy.py`).
      posterior_steps, posterior_hidden_units: `q`'s flow `g` (None: as `f`'s).
      seed: seed of the flows' initial rotations (None: NumPy's global RNG).
    """

    def __init__(
        self,
        event_size=2,
        augmented_dims=10,
        num_steps=3,
        hidden_units=64,
        num_hidden_layers=2,
        scale_activation="tanh",
        posterior_steps=None,
        posterior_hidden_units=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.event_size = _int_at_least(event_size, 1, "event_size")
        self.augmented_dims = _int_at_least(augmented_dims, 0, "augmented_dims")
        if self.augmented_dims == 1:
            raise ValueError("augmented_dims must be 0 or at least 2 (q's couplings split z).")
        if self.event_size + self.augmented_dims < 2:
            raise ValueError("event_size + augmented_dims must be at least 2.")
        self.num_steps = _int_at_least(num_steps, 1, "num_steps")
        self.hidden_units = _int_at_least(hidden_units, 1, "hidden_units")
        self.num_hidden_layers = _int_at_least(num_hidden_layers, 0, "num_hidden_layers")
        self.scale_activation = scale_activation
        self.posterior_steps = _int_at_least(
            num_steps if posterior_steps is None else posterior_steps, 1, "posterior_steps"
        )
        self.posterior_hidden_units = _int_at_least(
            hidden_units if posterior_hidden_units is None else posterior_hidden_units,
            1,
            "posterior_hidden_units",
        )
        self.seed = seed
        self.flow = DenseGlow(
            self.event_size + self.augmented_dims,
            num_steps=self.num_steps,
            hidden_units=self.hidden_units,
            num_hidden_layers=self.num_hidden_layers,
            scale_activation=scale_activation,
            seed=seed,
            name="flow",
            dtype=self.dtype_policy,
        )
        self.posterior_flow = None
        if self.augmented_dims:
            self.posterior_flow = DenseGlow(
                self.augmented_dims,
                num_steps=self.posterior_steps,
                hidden_units=self.posterior_hidden_units,
                num_hidden_layers=self.num_hidden_layers,
                scale_activation="tanh",  # a new q is N(0, I)
                conditional_shape=(self.event_size,),
                seed=None if seed is None else seed + self.num_steps,  # not f's rotations
                name="posterior_flow",
                dtype=self.dtype_policy,
            )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    @property
    def likelihood_kind(self):
        """`"exact"` for the plain flow, `"elbo"` (a lower bound on log p(x)) with augmentation."""
        return "elbo" if self.augmented_dims else "exact"

    def check_inputs(self, x, name="x"):
        """`x` as a float tensor `[N, event_size]` in the model's dtype, refusing other shapes."""
        x = tf.convert_to_tensor(x)
        if x.shape.rank != 2 or x.shape[-1] != self.event_size:
            raise ValueError(f"{name} must have shape [N, {self.event_size}], got {x.shape}.")
        return tf.cast(x, self.variable_dtype)

    def noise(self, batch_size, seed=None, sample=0):
        """`u ~ N(0, I)` `[batch_size, D_z]`: fresh, or from `(seed, sample)` for the batch."""
        shape = [batch_size, self.augmented_dims]
        if seed is None:
            return tf.random.normal(shape, dtype=self.variable_dtype)
        pair = tf.stack([tf.cast(seed, tf.int64), tf.cast(sample, tf.int64)])
        return tf.random.stateless_normal(shape, seed=pair, dtype=self.variable_dtype)

    def posterior_sample(self, x, u):
        """`z = g(u; x)` and `log q(z | x) = log N(u) - log|det dg/du|`, per example."""
        z, log_det = self.posterior_flow.forward_and_log_det(u, x)
        return z, standard_normal_log_prob(u, 1) - log_det

    def log_weights(self, x, u=None):
        """`(log w, log p(x, z), log q(z | x))` per example, `z = g(u; x)` (`u` None: fresh).

        Without augmentation `log w = log p(x)` and `log q = 0`.
        """
        if not self.augmented_dims:
            log_p = self.flow.log_prob(x)
            return log_p, log_p, tf.zeros_like(log_p)
        u = self.noise(tf.shape(x)[0]) if u is None else u
        z, log_q = self.posterior_sample(x, u)
        log_joint = self.flow.log_prob(tf.concat([x, z], axis=-1))
        return log_joint - log_q, log_joint, log_q

    def per_example_terms(self, x, seed=None):
        """`loss` (minus the ELBO), `log_likelihood` (the ELBO), `log_joint`, `log_posterior`."""
        x = self.check_inputs(x)
        u = self.noise(tf.shape(x)[0], seed) if self.augmented_dims else None
        log_w, log_joint, log_q = self.log_weights(x, u)
        return {
            "loss": -log_w,
            "log_likelihood": log_w,
            "log_joint": log_joint,
            "log_posterior": log_q,
        }

    def log_prob(self, x, num_importance_samples=1, seed=None, samples_per_chunk=None):
        """Per-example bound on `log p(x)` (nats): the ELBO (K = 1) or `IW_K`; exact if D_z = 0.

        Sample k of the bound is drawn from `(seed, k)` (None: fresh), so with a seed
        the value does not depend on `samples_per_chunk` (None: as many samples as keep
        a chunk within `ROWS_PER_CHUNK` rows).
        """
        k = _int_at_least(num_importance_samples, 1, "num_importance_samples")
        if k == 1 or not self.augmented_dims:
            return self.per_example_terms(x, seed)["log_likelihood"]
        return self.bounds(x, k, seed, samples_per_chunk)["iw"]

    def bounds(self, x, num_samples, seed=None, samples_per_chunk=None):
        """`{"elbo", "iw"}` per example from the same K draws of z (`log_prob`'s for a seed).

        "iw" is `IW_K` (`log mean_k w_k`, `log_prob(x, K, seed)`), "elbo" the mean
        of the K log-weights (the ELBO estimated with K draws), so "elbo" <= "iw" for
        every example (Jensen). One pass over the samples, `samples_per_chunk` at a time.
        """
        k = _int_at_least(num_samples, 1, "num_samples")
        x = self.check_inputs(x)
        if not self.augmented_dims:
            log_p = self.flow.log_prob(x)
            return {"elbo": log_p, "iw": log_p}
        batch = tf.shape(x)[0]
        if samples_per_chunk is None:
            samples_per_chunk = max(1, ROWS_PER_CHUNK // (x.shape[0] or ROWS_PER_CHUNK))
        chunk = min(_int_at_least(samples_per_chunk, 1, "samples_per_chunk"), k)

        def add(first, count, lse, total):  # the running logsumexp and sum of log w
            samples = first + tf.range(count)
            if seed is None:
                u = self.noise(count * batch)
            else:
                u = tf.map_fn(
                    lambda s: self.noise(batch, seed, s),
                    samples,
                    fn_output_signature=self.variable_dtype,
                )
                u = tf.reshape(u, [-1, self.augmented_dims])
            log_w = tf.reshape(self.log_weights(tf.tile(x, [count, 1]), u)[0], [count, batch])
            lse = tf.reduce_logsumexp(tf.concat([lse[None], log_w], axis=0), axis=0)
            return lse, total + tf.reduce_sum(log_w, axis=0)

        full, rest = divmod(k, chunk)
        zeros = tf.zeros([batch], self.variable_dtype)
        _, lse, total = tf.while_loop(
            lambda i, lse, total: i < full,
            lambda i, lse, total: (i + 1, *add(i * chunk, chunk, lse, total)),
            (tf.constant(0), zeros + float("-inf"), zeros),
            parallel_iterations=1,  # one chunk's activations alive at a time
        )
        if rest:
            lse, total = add(full * chunk, rest, lse, total)
        log_k = tf.math.log(tf.cast(k, lse.dtype))
        return {"elbo": total / tf.cast(k, total.dtype), "iw": lse - log_k}

    def sample(self, num_samples, seed=None):
        """`(x, z) = f(eps)`, `eps ~ N(0, I)`; returns `x` `[num_samples, D]`."""
        return self.flow.sample(num_samples, seed=seed)[:, : self.event_size]

    def initialize(self, x):
        """Actnorm data-dependent init of `f` on `(x, z)`, `z ~ q(z | x)` (eager, once).

        `q`'s actnorms stay at the identity (q starts as `N(0, I)` regardless).
        """
        x = self.check_inputs(x)
        if self.augmented_dims:
            z, _ = self.posterior_sample(x, self.noise(tf.shape(x)[0], seed=0))
            x = tf.concat([x, z], axis=-1)
        self.flow.initialize(x)

    def call(self, x, training=False):
        return self.per_example_terms(x)["log_likelihood"]

    # -- Keras training: minus the ELBO, averaged over the batch ---------------------------------

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self.per_example_terms(x)["loss"])
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        self.loss_tracker.update_state(tf.reduce_mean(self.per_example_terms(x)["loss"]))
        return {"loss": self.loss_tracker.result()}

    def get_config(self):
        return {
            **keras.layers.Layer.get_config(self),
            "event_size": self.event_size,
            "augmented_dims": self.augmented_dims,
            "num_steps": self.num_steps,
            "hidden_units": self.hidden_units,
            "num_hidden_layers": self.num_hidden_layers,
            "scale_activation": self.scale_activation,
            "posterior_steps": self.posterior_steps,
            "posterior_hidden_units": self.posterior_hidden_units,
            "seed": self.seed,
        }
