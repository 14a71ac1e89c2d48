"""Keras 3 layers that own a flow's weights and build `tfflows.bijectors` from them.

Names mean one thing per level: `ActNorm`, `Coupling` and `InvertibleConv1x1`
here are layers owning the weights of the bijector of the same name in
`tfflows.bijectors`, whose `bijector()` builds that map afresh from the current
weights. A layer attribute named after a part is that part's layer
(`GlowStep.coupling` is a `Coupling` layer); the kind of a part is a string
attribute ending in `_kind` (`GlowStep.coupling_kind`, `MultiScaleFlow.coupling_kind`),
set by the constructor argument named after the part (`coupling="affine"`).

Conditioning: a conditional layer is built with `conditional_shape` (one
example's conditional input shape, `(d,)` or `(h, w, c)`) and used with the
keyword argument `conditional_input=c` (`log_prob`, `sample`, `forward`,
`bijector`); `bijector(conditional_input=c)` returns the map with `c` fixed
(`bijectors.Conditioned`).
"""

from tfflows.layers._devices import portable
from tfflows.layers.actnorm import ActNorm
from tfflows.layers.batch_statistics import (
    batch_norms,
    batch_statistics,
    recalibrate_batch_norm,
)
from tfflows.layers.conv_conditioner import ConvConditioner
from tfflows.layers.conv_transpose import ShiftedConv2DTranspose
from tfflows.layers.coupling import NETWORKS, Coupling
from tfflows.layers.dense_conditioner import DenseConditioner
from tfflows.layers.dense_glow import DenseGlow
from tfflows.layers.dequantization import UniformDequantization
from tfflows.layers.flow import (
    Flow,
    FlowModel,
    as_conditional_shape,
    conditional_units,
    initializing,
    standard_normal,
)
from tfflows.layers.gated_conditioner import GatedConditioner
from tfflows.layers.glow_step import GlowStep
from tfflows.layers.invertible_conv1x1 import InvertibleConv1x1
from tfflows.layers.linear import Linear
from tfflows.layers.multi_scale_flow import MultiScaleFlow
from tfflows.layers.realnvp import RealNVP
from tfflows.layers.variational_dequantization import (
    DEQUANTIZATIONS,
    VariationalDequantization,
    make_dequantizer,
)

__all__ = [
    "DEQUANTIZATIONS",
    "NETWORKS",
    "ActNorm",
    "ConvConditioner",
    "Coupling",
    "DenseConditioner",
    "DenseGlow",
    "Flow",
    "FlowModel",
    "GatedConditioner",
    "GlowStep",
    "InvertibleConv1x1",
    "Linear",
    "MultiScaleFlow",
    "RealNVP",
    "ShiftedConv2DTranspose",
    "UniformDequantization",
    "VariationalDequantization",
    "as_conditional_shape",
    "batch_norms",
    "batch_statistics",
    "conditional_units",
    "initializing",
    "make_dequantizer",
    "portable",
    "recalibrate_batch_norm",
    "standard_normal",
]
