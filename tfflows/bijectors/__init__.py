"""TFP bijectors for flows over images and latent vectors: pure maths, no weights.

Every bijector here maps latent to data in its forward direction (TFP's
convention) and is cheap to construct, so Keras layers build a fresh one from
their weights on every call (see `tfflows.layers`).

Each takes TFP's `validate_args`: False (the default) adds nothing; True checks
what can go wrong (conditioner outputs against the transformed half, invertible
parameters, divisible sides, consistent splits), statically when shapes are
known and by `tf.debugging` assertions otherwise, naming the culprit.

Conditioning follows TFP: a conditional bijector (`AffineCoupling`,
`AdditiveCoupling`, `MixtureLogisticCoupling` with a conditioner that takes
`conditional_input=`, `ConditionalAffine`) takes it as a keyword argument of
`forward`, `inverse` and the log-dets. `Conditioned(bijector, conditional_input=c)`
fixes it so the bijector composes in a chain: the one way tfflows binds a
conditioning, used by every layer's `bijector(conditional_input=c)`.

Names mean one thing per level: a bijector here is the weightless map; the
layer of the same name in `tfflows.layers` (`ActNorm`, `Coupling`,
`InvertibleConv1x1`) owns that map's weights and builds it on every call.
`Coupling` here is the abstract base of the coupling maps.
"""

from tfflows.bijectors.actnorm import ActNorm
from tfflows.bijectors.additive_coupling import AdditiveCoupling
from tfflows.bijectors.affine_coupling import AFFINE_DIRECTIONS, SCALE_ACTIVATIONS, AffineCoupling
from tfflows.bijectors.base import FlowBijector, OnePassBijector
from tfflows.bijectors.conditional_affine import ConditionalAffine
from tfflows.bijectors.conditioned import Conditioned
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
    "Conditioned",
    "Coupling",
    "FlowBijector",
    "FlowChain",
    "InvertibleConv1x1",
    "MixtureLogisticCoupling",
    "MultiScaleSplit",
    "OnePassBijector",
    "Squeeze",
]
