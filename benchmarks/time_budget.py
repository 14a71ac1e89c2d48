"""Wall-clock budgets for `model.fit`: stop after so many seconds, snapshot, halve the rate.

Keras callbacks for the benchmarks that compare models at equal training
time (`glf_mnist.py`): the clock starts at the first batch (after tracing
and the data pipeline's first fill) and pauses while weights are saved.
"""

import contextlib
import time

import keras

from tfflows.models.phases import start_phase2
from tfflows.training import moving_average_weights

__all__ = ["BudgetHalving", "TimedPhaseSwitch", "TimeBudget"]


class BudgetHalving(keras.callbacks.Callback):
    """Halves the learning rate once each of `fractions` of `budget`'s seconds has passed.

    B.1's MNIST schedule (100 epochs, halved after 50) scaled to a time budget
    is `fractions=(0.5,)`. Place it after `budget` in the callbacks, which starts
    the clock at the first batch.
    """

    def __init__(self, budget, initial_learning_rate, fractions):
        super().__init__()
        self.budget = budget
        self.initial_learning_rate = float(initial_learning_rate)
        self.fractions = sorted(float(f) for f in fractions)
        self.halvings = []  # {"fraction", "step"} as they happen

    def on_train_batch_begin(self, batch, logs=None):
        passed = self.budget.elapsed / self.budget.seconds
        due = sum(passed >= f for f in self.fractions)  # as `step_halving` counts epochs
        if due > len(self.halvings):
            steps = self.budget.steps
            self.halvings += [
                {"fraction": f, "step": steps} for f in self.fractions[len(self.halvings) : due]
            ]
            self.model.optimizer.learning_rate = self.initial_learning_rate * 0.5**due


class TimedPhaseSwitch(keras.callbacks.Callback):
    """Switches a two-phase model to phase 2 once `fraction` of `budget`'s seconds has passed.

    The time-budget form of `models.phases.PhaseSwitch` (which counts epochs):
    phase 1 gets `fraction` of the wall clock, phase 2 the rest, inside one
    `fit`. Place it after `budget`, which starts the clock at the first batch.
    """

    def __init__(self, budget, fraction):
        super().__init__()
        self.budget = budget
        self.fraction = float(fraction)
        self.switch_step = None  # training steps before phase 2, once switched

    def on_train_batch_begin(self, batch, logs=None):
        started = self.budget.start is not None
        if self.switch_step is None and self.model.phase != 2 and started:
            if self.budget.elapsed >= self.fraction * self.budget.seconds:
                self.switch_step = self.budget.steps
                start_phase2(self.model)


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `seconds` have passed since the first batch; times the epochs.

    Records a training curve: every `curve_seconds` of training, a point
    `{"minutes", "steps", <each logged metric>: its mean over the steps since
    the previous point}` in `curve`. Keras logs running means over the epoch;
    each step's value is recovered from two of them (`n m_n - (n - 1) m_(n-1)`)
    and summed in float64 over the interval, across epoch boundaries. The
    recovery loses digits late in a long epoch after a large spike (the float32
    running mean absorbs it), so fit in short epochs (a few hundred steps).

    Saves the weights to `snapshot_path(minutes)` once each of `snapshot_minutes`
    has passed. With an optimizer's moving average (`use_ema`), what is saved
    there is the average, as `fit` ends with it (its batch norms' statistics
    recomputed over the `recalibration` batches), and the trained weights go to
    `snapshot_path(minutes, "_without_ema")`; at the end of training, to
    `snapshot_path(None, "_without_ema")`, before `fit` overwrites them.
    """

    def __init__(
        self,
        seconds,
        snapshot_minutes=(),
        snapshot_path=None,
        recalibration=None,
        curve_seconds=60.0,
    ):
        super().__init__()
        self.curve_seconds = curve_seconds
        self.curve = []
        self._running = {}  # metric -> Keras' running mean at the previous step of the epoch
        self._interval = {}  # metric -> sum of the step values since the last point
        self._interval_steps = 0
        self.epoch_steps = 0
        self.recalibration = recalibration  # batches for the average's batch norms
        self.seconds = seconds
        self.start = None
        self.epoch_start = None
        self.epoch_seconds = []
        self.steps = 0
        self.pending = sorted(snapshot_minutes)
        self.snapshot_path = snapshot_path
        self.snapshots = []

    def on_train_batch_begin(self, batch, logs=None):
        if self.start is None:
            self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()
        self.epoch_steps, self._running = 0, {}

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.epoch_steps += 1
        if self.curve_seconds:
            self._accumulate(logs or {})
        elapsed = time.perf_counter() - self.start
        if self.curve_seconds and elapsed >= (len(self.curve) + 1) * self.curve_seconds:
            self._record_point(elapsed)
        while self.pending and elapsed > 60.0 * self.pending[0]:
            minutes = self.pending.pop(0)
            path = self.snapshot_path(minutes)
            snapshot = {"minutes": minutes, "steps": self.steps, "weights": path}
            with self.clock_paused():
                if self.averaging:
                    snapshot["weights_without_ema"] = self.snapshot_path(minutes, "_without_ema")
                    self.model.save_weights(snapshot["weights_without_ema"])
                    with moving_average_weights(self.model, self.recalibration):
                        self.model.save_weights(path)
                else:
                    self.model.save_weights(path)
            self.snapshots.append(snapshot)
        if self.seconds is not None and elapsed > self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self.epoch_start)
        if self.averaging and (self.model.stop_training or epoch + 1 == self.params["epochs"]):
            with self.clock_paused():
                self.model.save_weights(self.snapshot_path(None, "_without_ema"))

    def _accumulate(self, logs):
        n = self.epoch_steps
        for name, value in logs.items():
            mean = float(value)
            step_value = n * mean - (n - 1) * self._running.get(name, 0.0)
            self._interval[name] = self._interval.get(name, 0.0) + step_value
            self._running[name] = mean
        self._interval_steps += 1

    def _record_point(self, elapsed):
        point = {"minutes": round(elapsed / 60.0, 3), "steps": self.steps}
        for name, total in self._interval.items():
            point[name] = total / self._interval_steps
        self.curve.append(point)
        self._interval, self._interval_steps = {}, 0

    @contextlib.contextmanager
    def clock_paused(self):
        """Time spent inside (saving weights) is not training time."""
        paused = time.perf_counter()
        try:
            yield
        finally:
            self.start += time.perf_counter() - paused

    @property
    def averaging(self):
        return bool(getattr(self.model.optimizer, "use_ema", False))

    @property
    def elapsed(self):
        return time.perf_counter() - self.start
