"""Keras 3 layers that own a flow's weights and build `tfflows.bijectors` from them."""

from tfflows.layers._devices import portable
from tfflows.layers.actnorm import ActNorm
from tfflows.layers.batch_statistics import (
    batch_norms,
    batch_statistics,
    recalibrate_batch_norm,
)
from tfflows.layers.conv_conditioner import ConvConditioner
from tfflows.layers.conv_transpose import ShiftedConv2DTranspose
from tfflows.layers.coupling import Coupling
from tfflows.layers.dense_conditioner import DenseConditioner
from tfflows.layers.dense_glow import DenseGlow
from tfflows.layers.dequantization import UniformDequantization
from tfflows.layers.flow import Flow, FlowModel, initializing, standard_normal
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
    "ActNorm",
    "ConvConditioner",
    "Coupling",
    "DenseConditioner",
    "DenseGlow",
    "Flow",
    "FlowModel",
    "GlowStep",
    "InvertibleConv1x1",
    "Linear",
    "MultiScaleFlow",
    "RealNVP",
    "ShiftedConv2DTranspose",
    "UniformDequantization",
    "VariationalDequantization",
    "batch_norms",
    "batch_statistics",
    "initializing",
    "make_dequantizer",
    "portable",
    "recalibrate_batch_norm",
    "standard_normal",
]
