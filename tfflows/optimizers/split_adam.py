"""Adam with a second parameter group: GLF's two optimizers (appendix B.1) as one Keras optimizer.

GLF trains the auto-encoder and the flow with Adam at the same learning rate,
"with a weight decay 2e-5 on the optimizer of the flow" only. The authors'
PyTorch code makes that two `torch.optim.Adam`s: the auto-encoder's with the
defaults, the flow's with `betas=(0.8, 0.9), eps=1e-6, weight_decay=2e-5`.
PyTorch's Adam `weight_decay` is *coupled* L2: it adds `wd * theta` to the
gradient before the moment estimates (unlike AdamW's decoupled decay). Keras
has no per-variable optimizer groups, so this Adam gives the variables of
`set_group(var_list)` their own hyper-parameters and that coupled L2, and
everything else plain Adam. The learning rate (and so the trainer's halving
schedule) is shared, as both of the authors' schedulers halve together; the
group may run at a fixed multiple of it (`group_learning_rate_scale`: the
flow-decoder VAE's Glow layer trains at a tenth of the VAE's rate).
"""

import keras
from keras import ops

from tfflows._internals import adam_moments
from tfflows.optimizers.fused_adam import FusedAdam, fused_adam_update

__all__ = ["SplitAdam", "check_learning_rate_scale"]


def check_learning_rate_scale(value, name):
    """`value` as a float in (0, 1e9), else a `ValueError` naming `name`.

    A multiple of a learning rate: a bool, a string, NaN or a value of 1e9 or
    more (infinity included) is a mistake, not a rate.
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e9
    if not ok:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


@keras.saving.register_keras_serializable(package="tfflows")
class SplitAdam(FusedAdam):
    """Adam, with `group_*` hyper-parameters and coupled L2 for the variables of `set_group`.

    For a grouped variable `theta` with gradient `g`, at step `t` (PyTorch's Adam):

      g <- g + group_l2 * theta
      m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2
      theta <- theta - s lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)

    (`s = group_learning_rate_scale`), which is `FusedAdam`'s update with
    `eps sqrt(1 - b2^t)` for its epsilon, and is computed so. Other variables
    follow `FusedAdam` (`keras.optimizers.Adam`). The group is a list of
    variables, not part of the config: a deserialized optimizer (from a
    `.keras` file) treats every variable alike until `set_group` is called.

    Args:
      learning_rate, beta_1, beta_2, epsilon: Adam's, for ungrouped variables.
      group_beta_1, group_beta_2, group_epsilon: Adam's, for the group.
      group_l2: coupled L2 weight decay of the group (PyTorch's `weight_decay`).
      group_learning_rate_scale: the group's learning rate as a multiple of
        `learning_rate` (of its current value, under a schedule too).
    """

    def __init__(
        self,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        group_beta_1=0.9,
        group_beta_2=0.999,
        group_epsilon=1e-8,
        group_l2=0.0,
        group_learning_rate_scale=1.0,
        name="split_adam",
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            name=name,
            **kwargs,
        )
        self.group_beta_1 = group_beta_1
        self.group_beta_2 = group_beta_2
        self.group_epsilon = group_epsilon
        self.group_l2 = group_l2
        self.group_learning_rate_scale = check_learning_rate_scale(
            group_learning_rate_scale, "group_learning_rate_scale"
        )
        self._group_keys = set()

    def set_group(self, var_list):
        """Puts `var_list` in the second group (before the first update)."""
        self._group_keys = {self._var_key(variable) for variable in var_list}
        return self

    def in_group(self, variable):
        return self._var_key(variable) in self._group_keys

    def update_step(self, gradient, variable, learning_rate):
        if not self.in_group(variable):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        if self.group_learning_rate_scale != 1.0:
            learning_rate = ops.multiply(
                ops.cast(learning_rate, dtype), self.group_learning_rate_scale
            )
        if self.group_l2:
            l2 = ops.convert_to_tensor(self.group_l2, dtype)
            gradient = ops.add(gradient, ops.multiply(l2, variable))
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.convert_to_tensor(self.group_beta_1, dtype)
        beta_2 = ops.convert_to_tensor(self.group_beta_2, dtype)
        m, v = adam_moments(self, variable)
        if self.can_fuse(gradient):
            # PyTorch's epsilon sits outside the bias correction of sqrt(v).
            epsilon = self.group_epsilon * ops.sqrt(1 - ops.power(beta_2, step))
            fused_adam_update(
                variable, m, v, gradient, learning_rate, beta_1, beta_2, epsilon, step
            )
            return
        lr = ops.cast(learning_rate, dtype)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - beta_2))
        denominator = ops.add(
            ops.sqrt(ops.divide(v, 1 - ops.power(beta_2, step))), self.group_epsilon
        )
        self.assign_sub(
            variable,
            ops.divide(ops.multiply(m, lr / (1 - ops.power(beta_1, step))), denominator),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "group_beta_1": self.group_beta_1,
            "group_beta_2": self.group_beta_2,
            "group_epsilon": self.group_epsilon,
            "group_l2": self.group_l2,
            "group_learning_rate_scale": self.group_learning_rate_scale,
        }
