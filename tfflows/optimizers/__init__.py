"""Keras optimizers: Adam as one fused kernel, and GLF's Adam with a second parameter group."""

from tfflows.optimizers.fused_adam import FusedAdam, fused_adam_update
from tfflows.optimizers.split_adam import SplitAdam, check_learning_rate_scale

__all__ = ["FusedAdam", "SplitAdam", "check_learning_rate_scale", "fused_adam_update"]
