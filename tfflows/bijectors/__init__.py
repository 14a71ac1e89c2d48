"""TFP bijectors for flows over images and latent vectors: pure maths, no weights.

Every bijector here maps latent to data in its forward direction (TFP's
convention) and is cheap to construct, so Keras layers build a fresh one from
their weights on every call (see `tfflows.layers`).

Each takes TFP's `validate_args`: False (the default) adds nothing; True checks
what can go wrong (conditioner outputs against the transformed half, invertible
parameters, divisible sides, consistent splits), statically when shapes are
known and by `tf.debugging` assertions otherwise, naming the culprit.
"""

from tfflows.bijectors.actnorm import ActNorm
from tfflows.bijectors.additive_coupling import AdditiveCoupling
from tfflows.bijectors.affine_coupling import AFFINE_DIRECTIONS, SCALE_ACTIVATIONS, AffineCoupling
from tfflows.bijectors.base import FlowBijector, OnePassBijector
from tfflows.bijectors.conditional_affine import ConditionalAffine
from tfflows.bijectors.coupling import Coupling
from tfflows.bijectors.flow_chain import FlowChain
from tfflows.bijectors.invertible_conv1x1 import InvertibleConv1x1
from tfflows.bijectors.mixture_logistic_coupling import MixtureLogisticCoupling
from tfflows.bijectors.multi_scale_split import MultiScaleSplit
from tfflows.bijectors.squeeze import Squeeze

__all__ = [
    "AFFINE_DIRECTIONS",
    "SCALE_ACTIVATIONS",
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "ConditionalAffine",
    "Coupling",
    "FlowBijector",
    "FlowChain",
    "InvertibleConv1x1",
    "MixtureLogisticCoupling",
    "MultiScaleSplit",
    "OnePassBijector",
    "Squeeze",
]
