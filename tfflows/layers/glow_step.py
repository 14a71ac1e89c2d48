"""One step of Glow's flow: actnorm -> invertible 1x1 conv -> coupling (Glow, Figure 2a).

Over images `[H, W, C]` (a convolutional coupling network) or vectors `[D]`
(`network="dense"`: the 1x1 convolution is then an invertible D x D matrix).
"""

import keras

from tfflows import bijectors
from tfflows.layers.actnorm import ActNorm
from tfflows.layers.coupling import NETWORKS, Coupling
from tfflows.layers.flow import Flow, as_conditional_shape
from tfflows.layers.invertible_conv1x1 import InvertibleConv1x1

__all__ = ["GlowStep"]


@keras.saving.register_keras_serializable(package="tfflows")
class GlowStep(Flow):
    """Actnorm, invertible 1x1 convolution and coupling, in data-to-latent order.

    As one bijector (latent to data): `FlowChain([actnorm, conv1x1, coupling])`.
    Log-det: `h*w*sum(log|s_actnorm|) + h*w*sum(log|s_W|) + sum(log s_coupling)`
    (Glow, Table 1), the coupling's term being that of its kind.

    Args:
      coupling: "affine", "additive" or "mixlogistic" (Flow++'s mixture-of-logistics
        coupling, `bijectors.MixtureLogisticCoupling`).
      hidden_units: width of the coupling network.
      kernel_size: first and last kernel size of the coupling network.
      scale_activation: scale of the affine coupling (see `bijectors.AffineCoupling`).
      conditional_shape: shape of one example's conditional input, or None.
      seed: seed of the 1x1 convolution's initial rotation.
      conv1x1_init: "rotation" (Glow) or "identity" (see `InvertibleConv1x1`).
      num_components: mixture components of a "mixlogistic" coupling.
      validate_args: see `Flow`; passed on to the three layers.
      network: "conv" (image events `[H, W, C]`, Glow's coupling network), "gated"
        (image events, Flow++'s) or "dense" (vector events `[D]`, a fully connected
        coupling network; `conditional_shape` is then `(d,)`).
      num_hidden_layers: hidden layers of the dense coupling network, blocks of the gated one.
    """

    def __init__(
        self,
        coupling="affine",
        hidden_units=512,
        kernel_size=3,
        scale_activation="tanh",
        conditional_shape=None,
        seed=None,
        conv1x1_init="rotation",
        num_components=4,
        network="conv",
        num_hidden_layers=2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.coupling_kind = coupling
        self.hidden_units = int(hidden_units)
        self.kernel_size = int(kernel_size)
        self.scale_activation = scale_activation
        self.conditional_shape = as_conditional_shape(conditional_shape)
        self.seed = seed
        self.conv1x1_init = conv1x1_init
        self.num_components = int(num_components)
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}.")
        self.network = network
        self.num_hidden_layers = int(num_hidden_layers)
        self.event_ndims = 1 if network == "dense" else 3
        checks = dict(validate_args=self.validate_args, dtype=self.dtype_policy)
        self.actnorm = ActNorm(event_ndims=self.event_ndims, name="actnorm", **checks)
        self.conv1x1 = InvertibleConv1x1(
            event_ndims=self.event_ndims, seed=seed, init=conv1x1_init, name="conv1x1", **checks
        )
        self.coupling = Coupling(
            kind=coupling,
            network=network,
            hidden_units=hidden_units,
            num_hidden_layers=num_hidden_layers,
            kernel_size=kernel_size,
            scale_activation=scale_activation,
            conditional_shape=self.conditional_shape,
            num_components=num_components,
            name="coupling",
            **checks,
        )

    def build(self, input_shape):
        for layer in (self.actnorm, self.conv1x1, self.coupling):
            layer.build(input_shape)

    def bijector(self, conditional_input=None):
        return bijectors.FlowChain(
            [
                self.actnorm.bijector(),
                self.conv1x1.bijector(),
                self.coupling.bijector(conditional_input),
            ],
            event_ndims=self.event_ndims,
            validate_args=self.validate_args,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "coupling": self.coupling_kind,
            "hidden_units": self.hidden_units,
            "kernel_size": self.kernel_size,
            "scale_activation": self.scale_activation,
            "conditional_shape": self.conditional_shape,
            "seed": self.seed,
            "conv1x1_init": self.conv1x1_init,
            "num_components": self.num_components,
            "network": self.network,
            "num_hidden_layers": self.num_hidden_layers,
        }
