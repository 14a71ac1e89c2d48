"""Keras optimizers: Adam as one fused kernel, and GLF's Adam with a second parameter group."""

from tfflows.optimizers.fused_adam import FusedAdam, fused_adam_update
from tfflows.optimizers.split_adam import SplitAdam

__all__ = ["FusedAdam", "SplitAdam", "fused_adam_update"]
