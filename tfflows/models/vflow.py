"""VFlow (Chen et al., ICML 2020): a flow over the image augmented with extra channels.

A vanilla flow maps `y` (D dimensions) to noise of the same D dimensions, so
every intermediate representation is D-dimensional: the "bottleneck problem"
of the slides. VFlow draws `D_z` extra channels `z` per pixel and runs one
flow `f` over the augmented image `(y, z)`, `[H, W, C + D_z]`:

    log p(y, z) = log N(f^-1(y, z); 0, I) + log|det d f^-1(y, z) / d(y, z)|.

The image density is the marginal `p(y) = int p(y, z) dz`, bounded with a
conditional flow `q(z | y)` ("Estimation" slide):

    log p(y) >= E_{q(z|y)}[log p(y, z) - log q(z | y)]                (ELBO)

with `z = g(u; h(y))`, `u ~ N(0, I)` (`[H, W, D_z]`), `g` invertible in `u`
for every `y` and `h` a small convolutional network of `y` (the context), so

    log q(z | y) = log N(u; 0, I) - log|det dg(u; h)/du|.

Training maximises the ELBO over the flow and `q` jointly, one Monte-Carlo
`u` per example ("Maximum ELBO estimation for VFlow"). The slides' theorem:
its optimum is at least a vanilla flow's maximum likelihood (with
`p(y, z) = p(y) N(z)` and `q = N(z)` the bound equals `log p(y)`), and
`tests/test_vflow.py` checks that construction. Like every tfflows model it
works on uniformly dequantized n-bit images `y = (x + u') / 2^n - 0.5` and
reports the bound on the discrete image's log-likelihood in nats
(`likelihood_kind = "elbo"`; `log_prob(..., num_importance_samples=K)` is
Burda et al.'s tighter IW bound).

Sampling: `(y, z) = f(T eps)` and keep the C image channels.

Choices the slides leave open, each the nearest of what the papers do:
  - `f` is Glow's multi-scale flow (`layers.MultiScaleFlow`), the defaults
    the `Glow` baseline's (K = 32, 512 units), so the two compare
    like-for-like as in the slides' table (same steps and widths, 3 -> 6
    channels on CIFAR-10: `augmented_channels` defaults to C).
  - `q` is the same kind of flow over `[H, W, D_z]`, smaller, with the
    context concatenated to every coupling and prior network's input, as
    Flow++'s variational dequantizer, which the authors' code builds on,
    conditions on features of x (not checked against their code here). Its
    coupling networks start at zero and its affine couplings use the "tanh"
    scale (identity at zero, where Glow's `sigmoid(h + 2)` is 0.88), so a new
    `q(z|y)` is `N(0, I)`.
  - Uniform dequantization by default (as the `Glow` baseline); with
    `dequantization="variational"` Flow++'s learned `q(u | x)` as well
    (`layers.VariationalDequantization`): `y = (x + u) / 2^n - 0.5` with
    `u ~ q(u | x)`, and the bound (Flow++ eq. 12 with VFlow's ELBO inside)

        log P(x) >= E_{q(u|x) q(z|y)}[log p(y, z) - log q(z | y) - log q(u | x)] - D n log 2,

    `u` and `z` drawn from the same per-sample seed (`data.variational_seeds`);
    `posterior_log_prob` is then `log q(z | y) + log q(u | x)`.
"""

import keras
import tensorflow as tf

from tfflows.layers import MultiScaleFlow
from tfflows.models.base import GenerativeModel, input_dtype
from tfflows.models.gaussian import standard_normal_log_prob
from tfflows.models.glow import default_num_levels
from tfflows.models.registry import register

__all__ = ["VFlow", "context_network"]


def context_network(image_shape, channels, hidden_units, dtype=None, name="context"):
    """`h(y)`: two 3x3 convolutions, the features of `y` that `q(z | y)` conditions on."""
    inputs = keras.Input(image_shape, dtype=input_dtype(dtype))
    h = keras.layers.Conv2D(hidden_units, 3, padding="same", activation="relu", dtype=dtype)(inputs)
    h = keras.layers.Conv2D(channels, 3, padding="same", dtype=dtype)(h)
    return keras.Model(inputs, h, name=name)


_SMALL = dict(
    num_steps=4,
    hidden_units=64,
    posterior_steps=2,
    posterior_hidden_units=32,
    dequantization_steps=2,
    dequantization_hidden_units=32,
)


@register("vflow", presets={"small": _SMALL})
@keras.saving.register_keras_serializable(package="tfflows")
class VFlow(GenerativeModel):
    """VFlow: Glow over `(y, z)`, `z` from the conditional flow `q(z | y)`, ELBO training.

    Args:
      image_shape: `(H, W, C)`.
      augmented_channels: D_z, extra channels per pixel (None: C, the slides' 3 -> 6).
      num_levels: L of the joint flow (None: `Glow`'s default for the image's sides).
      num_steps: K, steps per level of the joint flow.
      hidden_units: width of the joint flow's coupling networks.
      coupling: "affine", "additive" or "mixlogistic" (Flow++'s, 4 components), in
        both flows (q's samples, drawn in training, then run its bisection).
      coupling_network: the coupling networks of both flows: "conv" (Glow's 3x3-1x1-3x3) or "gated"
        (Flow++'s gated convolutions and self-attention, `layers.GatedConditioner`).
      coupling_blocks: blocks of the "gated" networks (Flow++: 10).
      scale_activation: scale of the joint flow's affine couplings ("contracting":
        Glow's sigmoid, applied when sampling, as the `Glow` baseline).
      posterior_levels: levels of q's flow (None: 1, a squeeze and the steps, no split).
      posterior_steps: steps per level of q's flow.
      posterior_hidden_units: width of q's coupling networks.
      posterior_scale_activation: scale of q's affine couplings ("tanh": a new q is N(0, I)).
      context_channels: channels of the context `h(y)` q conditions on.
      context_hidden_units: width of the context network's hidden convolution.
      num_bits: bit depth the model sees.
      seed: seed of the 1x1 convolutions' initial rotations.
      dequantization: "uniform" (`u ~ U[0, 1)`) or "variational" (Flow++'s
        learned `q(u | x)`, inside the ELBO).
      dequantization_steps: Glow steps of q(u|x)'s flow (variational only).
      dequantization_hidden_units: width of q(u|x)'s coupling and context networks.
      dequantization_context_channels: channels of q(u|x)'s context `h(x)`.
    """

    likelihood_kind = "elbo"
    terms = ("loss", "log_likelihood", "joint_nll", "posterior_log_prob")

    def __init__(
        self,
        image_shape,
        augmented_channels=None,
        num_levels=None,
        num_steps=32,
        hidden_units=512,
        coupling="affine",
        coupling_network="conv",
        coupling_blocks=2,
        scale_activation="contracting",
        posterior_levels=None,
        posterior_steps=4,
        posterior_hidden_units=128,
        posterior_scale_activation="tanh",
        context_channels=16,
        context_hidden_units=64,
        num_bits=8,
        seed=None,
        dequantization="uniform",
        dequantization_steps=4,
        dequantization_hidden_units=64,
        dequantization_context_channels=16,
        **kwargs,
    ):
        super().__init__(image_shape, num_bits=num_bits, **kwargs)
        self._set_dequantization(
            dequantization,
            dequantization_steps,
            dequantization_hidden_units,
            dequantization_context_channels,
            seed=None if seed is None else seed + 2,
            coupling=coupling,
            network=coupling_network,
            blocks=coupling_blocks,
        )
        height, width, channels = self.image_shape
        self.augmented_channels = (
            channels if augmented_channels is None else int(augmented_channels)
        )
        if self.augmented_channels < 1:
            raise ValueError(f"augmented_channels must be >= 1, got {augmented_channels}.")
        self.num_levels = default_num_levels(self.image_shape) if num_levels is None else num_levels
        self.num_steps, self.hidden_units = int(num_steps), int(hidden_units)
        self.coupling, self.scale_activation = coupling, scale_activation
        self.coupling_network, self.coupling_blocks = coupling_network, int(coupling_blocks)
        networks = dict(network=coupling_network, num_hidden_layers=self.coupling_blocks)
        self.posterior_levels = 1 if posterior_levels is None else int(posterior_levels)
        self.posterior_steps = int(posterior_steps)
        self.posterior_hidden_units = int(posterior_hidden_units)
        self.posterior_scale_activation = posterior_scale_activation
        self.context_channels = int(context_channels)
        self.context_hidden_units = int(context_hidden_units)
        self.seed = seed
        self.augmented_shape = (height, width, self.augmented_channels)
        self.flow = MultiScaleFlow(
            (height, width, channels + self.augmented_channels),
            num_levels=self.num_levels,
            num_steps=self.num_steps,
            hidden_units=self.hidden_units,
            coupling=coupling,
            scale_activation=scale_activation,
            seed=seed,
            **networks,
            name="flow",
            dtype=self.dtype_policy,
        )
        self.context = context_network(
            self.image_shape, self.context_channels, self.context_hidden_units, self.dtype_policy
        )
        self.posterior_flow = MultiScaleFlow(
            self.augmented_shape,
            num_levels=self.posterior_levels,
            num_steps=self.posterior_steps,
            hidden_units=self.posterior_hidden_units,
            coupling=coupling,
            scale_activation=posterior_scale_activation,
            conditional_shape=(height, width, self.context_channels),
            # Distinct rotations from the joint flow's when seeded.
            seed=None if seed is None else seed + 1,
            **networks,
            name="posterior_flow",
            dtype=self.dtype_policy,
        )
        self.built = True  # every weight exists now; nothing waits for an input shape

    # -- the bound -----------------------------------------------------------------------------

    def _noise(self, batch_size, seed):
        # In the variables' dtype, as all flow maths (see `layers.Flow`'s dtypes).
        noise = self.latent_noise(batch_size, self.augmented_shape, seed)
        return tf.cast(noise, self.variable_dtype)

    def posterior_sample(self, y, u):
        """`z = g(u; h(y))` and `log q(z | y) = log N(u) - log|det dg/du|`, per example."""
        z, log_det = self.posterior_flow.forward_and_log_det(u, self.context(y))
        return z, standard_normal_log_prob(u, 3) - log_det

    def log_weights(self, y, u):
        """`log p(y, z) - log q(z | y)` with `z = g(u; h(y))` (nats of the density of y)."""
        z, log_q = self.posterior_sample(y, u)
        log_joint = self.flow.log_prob(tf.concat([y, z], axis=-1))
        return log_joint - log_q, log_joint, log_q

    def _bound_terms(self, inputs, seeds):
        """`(log w, log p(y, z), log q)` of `bound_inputs` rows, the noise from `seeds`.

        Uniform: the rows are `y`. Variational: uint8 images, `u ~ q(u | x)` and `z`
        from the same seeds, and `log q = log q(z | y) + log q(u | x)`.
        """
        if self.dequantizer is None:
            return self.log_weights(inputs, self._noise(tf.shape(inputs)[0], seeds))
        y, log_q_u = self.dequantizer(inputs, seed=seeds)
        log_w, log_joint, log_q = self.log_weights(y, self._noise(tf.shape(y)[0], seeds))
        return log_w - log_q_u, log_joint, log_q + log_q_u

    def per_example_terms(self, images, training=False, seed=None):
        if self.dequantizer is None:
            y = self.model_space(images, seed=seed)
            noise = self._noise(tf.shape(y)[0], self.noise_seeds(images, seed))
            log_w, log_joint, log_q = self.log_weights(y, noise)
        else:
            inputs = self.check_images(images)
            log_w, log_joint, log_q = self._bound_terms(inputs, self.noise_seeds(images, seed))
        log_likelihood = self.discrete_log_likelihood(log_w)
        return {
            "loss": self.loss_from_objective(log_likelihood),
            "log_likelihood": log_likelihood,
            "joint_nll": -log_joint,
            "posterior_log_prob": log_q,
        }

    def importance_log_weights(self, y, seeds=None):
        """`log p(y, z) - log q(z | y)` per row, `z = g(u; h(y))`, `u` from the row's seed.

        With a variational dequantizer the rows are uint8 images, and `- log q(u | x)` is in.
        """
        return self._bound_terms(y, seeds)[0]

    # -- sampling and initialisation -----------------------------------------------------------

    def sample(self, num_samples, temperature=1.0, seed=None):
        """`(y, z) = f(T eps)`; the image channels `y` as float32 in [0, 1]."""
        augmented = self.flow.sample(num_samples, temperature=temperature, seed=seed)
        return self.dequantize.to_unit_interval(augmented[..., : self.image_shape[-1]])

    def initialize(self, images):
        """Actnorm data-dependent init of the joint flow on `(y, z)`, `z ~ q(z|y)` (eager, once).

        q's own actnorms stay at the identity: its data direction would need
        samples of z before q exists, and q starts as `N(0, I)` regardless.
        """
        if self.dequantizer is None:
            y = self.model_space(images, seed=0)
        else:  # y from the new q(u|x), whose actnorms stay at the identity too
            y = self.dequantizer(self.check_images(images), seed=0)[0]
        z, _ = self.posterior_sample(y, self._noise(tf.shape(y)[0], 0))
        self.flow.initialize(tf.concat([y, z], axis=-1))

    def get_config(self):
        return {
            **super().get_config(),
            "augmented_channels": self.augmented_channels,
            "num_levels": self.num_levels,
            "num_steps": self.num_steps,
            "hidden_units": self.hidden_units,
            "coupling": self.coupling,
            "coupling_network": self.coupling_network,
            "coupling_blocks": self.coupling_blocks,
            "scale_activation": self.scale_activation,
            "posterior_levels": self.posterior_levels,
            "posterior_steps": self.posterior_steps,
            "posterior_hidden_units": self.posterior_hidden_units,
            "posterior_scale_activation": self.posterior_scale_activation,
            "context_channels": self.context_channels,
            "context_hidden_units": self.context_hidden_units,
            "seed": self.seed,
            **self._dequantization_config(),
        }
