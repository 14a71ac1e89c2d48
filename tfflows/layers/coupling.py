"""Coupling layer: affine, additive or mixture-of-logistics, with a learned conditioner."""

import keras
import tensorflow as tf

from tfflows import bijectors
from tfflows.layers.conv_conditioner import ConvConditioner
from tfflows.layers.dense_conditioner import DenseConditioner
from tfflows.layers.flow import Flow, as_conditional_shape
from tfflows.layers.gated_conditioner import GatedConditioner

__all__ = ["Coupling", "KINDS", "NETWORKS"]

KINDS = ("affine", "additive", "mixlogistic")
#: Coupling networks: Glow's convolutional one and Flow++'s gated one (images), dense (vectors).
NETWORKS = ("conv", "gated", "dense")


@keras.saving.register_keras_serializable(package="tfflows")
class Coupling(Flow):
    """Affine, additive or mixture-of-logistics coupling whose conditioner this layer owns.

    `network="conv"` couples the channels of image events `[H, W, C]` with
    Glow's convolutional network, `network="gated"` with Flow++'s gated
    convolutions and self-attention (`GatedConditioner`); `network="dense"` couples the features of
    vector events `[D]` with a fully connected one. Either can take a
    conditional input (concatenated to the conditioner's input), as VFlow's
    `q(z | x)` and other conditional flows need. The conditioner's last layer
    is zero-initialised, so with the "tanh", "exp" or "atan" scale a new
    coupling is the identity, and a new "mixlogistic" one is within 0.07 of it
    (the components' fixed mean offsets; see `bijectors.MixtureLogisticCoupling`).

    Args:
      kind: "affine" (`bijectors.AffineCoupling`), "additive" or "mixlogistic"
        (Flow++'s `bijectors.MixtureLogisticCoupling`: its conditioner outputs
        `3 * num_components + 2` values per transformed unit; `scale_activation`
        and `affine_direction` do not apply, its scale is Flow++'s tanh).
      network: "conv", "gated" or "dense" (`NETWORKS`).
      hidden_units: width of the conditioner (conv: Glow's 512; dense: GLF's 64).
      num_hidden_layers: hidden layers of the dense conditioner; blocks of the gated one.
      kernel_size: first and last kernel size of the conv conditioner.
      num_masked: units the coupling conditions on, as in `tfb.RealNVP`
        (None: the first half; negative: the last units).
      scale_activation: one of `bijectors.SCALE_ACTIVATIONS` (see `bijectors.AffineCoupling`).
      affine_direction: "forward" (latent to data) or "inverse" (data to latent,
        GLF's section 3.1): the direction that computes `x_b * exp(s) + t`.
      conditional_shape: shape of one example's conditional input (`(h, w, c)` or
        `(c,)` for "conv", `(d,)` for "dense"); None for an unconditional coupling.
      separate_networks, batch_norm: options of the dense conditioner (see
        `DenseConditioner`; GLF's reference code uses both).
      num_components: mixture components of a "mixlogistic" coupling (Flow++: 32).
      validate_args: see `Flow`; checks the conditioner's outputs against `x_b`.
    """

    def __init__(
        self,
        kind="affine",
        network="conv",
        hidden_units=512,
        num_hidden_layers=2,
        kernel_size=3,
        num_masked=None,
        scale_activation="tanh",
        conditional_shape=None,
        separate_networks=False,
        batch_norm=False,
        affine_direction="forward",
        num_components=4,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}.")
        if scale_activation not in bijectors.SCALE_ACTIVATIONS:
            raise ValueError(f"Unknown scale_activation {scale_activation!r}.")
        if affine_direction not in bijectors.AFFINE_DIRECTIONS:
            raise ValueError(f"Unknown affine_direction {affine_direction!r}.")
        self.kind = kind
        self.network = network
        self.hidden_units = hidden_units
        self.num_hidden_layers = int(num_hidden_layers)
        self.kernel_size = int(kernel_size)
        self.num_masked = num_masked
        self.scale_activation = scale_activation
        self.affine_direction = affine_direction
        self.conditional_shape = as_conditional_shape(conditional_shape)
        if network != "dense" and (separate_networks or batch_norm):
            raise ValueError("separate_networks and batch_norm are options of the dense network.")
        self.separate_networks = bool(separate_networks)
        self.batch_norm = bool(batch_norm)
        self.event_ndims = 1 if network == "dense" else 3
        self.num_components = int(num_components)
        if self.num_components < 1:
            raise ValueError(f"num_components must be >= 1, got {num_components!r}.")

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if channels < 2:
            raise ValueError(
                f"A coupling needs at least 2 channels to split, got {channels}; "
                "squeeze the input first."
            )
        masked = channels // 2 if self.num_masked is None else self.num_masked
        transformed = channels - abs(masked)
        num_outputs = 2 if self.kind == "affine" else 1
        if self.kind == "mixlogistic":
            # One output holding all (3K + 2) values per unit, the bijector's layout.
            transformed *= 3 * self.num_components + 2
        if self.network == "gated":
            self.conditioner = GatedConditioner(
                transformed,
                num_outputs,
                self.hidden_units,
                self.num_hidden_layers,
                conditional_shape=self.conditional_shape,
                name="conditioner",
                dtype=self.dtype_policy,
            )
        elif self.network == "conv":
            self.conditioner = ConvConditioner(
                transformed,
                num_outputs,
                self.hidden_units,
                self.kernel_size,
                self.conditional_shape,
                name="conditioner",
                dtype=self.dtype_policy,
            )
        else:
            self.conditioner = DenseConditioner(
                transformed,
                num_outputs,
                self.hidden_units,
                self.num_hidden_layers,
                self.conditional_shape,
                separate_networks=self.separate_networks,
                batch_norm=self.batch_norm,
                name="conditioner",
                dtype=self.dtype_policy,
            )
        self.conditioner.build(tuple(input_shape[:-1]) + (abs(masked),))

    def bijector(self, conditional_input=None):
        coupling = self._coupling_bijector()
        if conditional_input is None:
            return coupling
        return bijectors.Conditioned(
            coupling, validate_args=self.validate_args, conditional_input=conditional_input
        )

    def _network(self, x_a, **kwargs):
        """The conditioner's outputs in `x_a`'s dtype (see `Flow`'s dtypes).

        Under a mixed policy the network computes in bfloat16 or float16; the
        coupling's transform and log-det stay in the variables' dtype.
        """
        outputs = self.conditioner(x_a, **kwargs)
        return tf.nest.map_structure(lambda t: tf.cast(t, x_a.dtype), outputs)

    def _coupling_bijector(self):
        """The coupling map, conditional (`conditional_input=` keyword) if the conditioner is."""
        fn, checks = self._network, dict(validate_args=self.validate_args)
        if self.kind == "additive":
            return bijectors.AdditiveCoupling(fn, self.num_masked, self.event_ndims, **checks)
        if self.kind == "mixlogistic":
            return bijectors.MixtureLogisticCoupling(
                fn, self.num_components, self.num_masked, self.event_ndims, **checks
            )
        return bijectors.AffineCoupling(
            fn,
            self.num_masked,
            self.event_ndims,
            self.scale_activation,
            self.affine_direction,
            **checks,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "kind": self.kind,
            "network": self.network,
            "hidden_units": self.hidden_units,
            "num_hidden_layers": self.num_hidden_layers,
            "kernel_size": self.kernel_size,
            "num_masked": self.num_masked,
            "scale_activation": self.scale_activation,
            "conditional_shape": self.conditional_shape,
            "separate_networks": self.separate_networks,
            "batch_norm": self.batch_norm,
            "affine_direction": self.affine_direction,
            "num_components": self.num_components,
        }
