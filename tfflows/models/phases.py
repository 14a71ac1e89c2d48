"""Models trained in two phases: the switch inside one `fit` and the checks they share.

A two-phase model (`VAEFlowDecoder`, `TwoStageVAE`) has a `phase` attribute, a
`set_phase(phase)` that drops its traced steps, `optimized_variables()`
narrowed to what the current phase trains (phase 2's variables are ones phase
1 never updated) and `phase1_fraction`, the share of training in phase 1.
`training_callbacks(epochs)` returns a `PhaseSwitch` after that fraction of
the epochs, so one `fit` (the trainer's) runs both phases; `start_phase2` is
the switch itself, for callbacks that switch on another clock (a time budget).
"""

import math

import keras

__all__ = [
    "PhaseSwitch",
    "check_fraction",
    "check_phase",
    "forget_traced_steps",
    "start_phase2",
    "switch_epoch",
]


def start_phase2(model, restart_optimizer=True):
    """Switches `model` to phase 2 inside a `fit`, with a fresh Adam for phase 2's variables.

    The optimizer's step count restarts at 0 (phase 2's variables have zero
    Adam moments: with phase 1's count, bias correction would make their first
    updates up to ~3x the learning rate), and the train function is remade
    (Keras' `fit` calls `model.train_function` anew at every step).
    """
    model.set_phase(2)
    if restart_optimizer and model.optimizer is not None:
        model.optimizer.iterations.assign(0)
    model.make_train_function(force=True)


class PhaseSwitch(keras.callbacks.Callback):
    """Switches a two-phase model to phase 2 at the start of epoch `start_epoch` (0-based).

    Also after a resume: the phase follows the epoch, not the callback's history.
    At the switch itself the optimizer's step count restarts at 0, so phase
    2's variables (whose Adam moments are still zero) get a fresh Adam: with
    phase 1's step count its bias correction would make the first updates up
    to ~3x the learning rate. A run resumed later in phase 2 keeps the count
    its backup holds.
    """

    def __init__(self, start_epoch):
        super().__init__()
        self.start_epoch = int(start_epoch)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.start_epoch and self.model.phase != 2:
            start_phase2(self.model, restart_optimizer=epoch == self.start_epoch)


def check_phase(phase):
    """`phase` as the int 1 or 2, else a `ValueError` naming it."""
    if isinstance(phase, bool) or phase not in (1, 2):
        raise ValueError(f"phase must be 1 or 2, got {phase!r}.")
    return int(phase)


def check_fraction(value, name):
    """`value` as a float in [0, 1] (the fraction of the epochs in phase 1), else a `ValueError`.

    0 starts in phase 2 at once, 1 never leaves phase 1; the message names `name`.
    """
    try:
        fraction = float(value)
        ok = not isinstance(value, bool) and 0.0 <= fraction <= 1.0  # NaN fails too
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"{name} must be a number in [0, 1] (the fraction of the epochs in phase 1), "
            f"got {value!r}."
        )
    return fraction


def switch_epoch(fraction, epochs):
    """The 0-based epoch phase 2 starts at: after `ceil(fraction * epochs)` epochs of phase 1."""
    return math.ceil(fraction * epochs)


def forget_traced_steps(model):
    """Drops a model's traced steps, which depend on its phase.

    `fit`, `evaluate` and the XLA loss retrace; a callback switching inside
    `fit` also remakes the train function, as `PhaseSwitch` does.
    """
    model._loss_and_grads_fn = None
    model.forget_traces()
    model.train_function = model.test_function = model.predict_function = None
