"""The configuration of a training run (what the trainer binaries' flags fill in)."""

import dataclasses

__all__ = ["TrainConfig"]


@dataclasses.dataclass
class TrainConfig:
    """Everything `tfflows.training.train` needs; every field has a working default.

    Attributes:
      model: registered model name (`tfflows.models.names()`).
      preset: hyper-parameter preset of the model ("default", "small", ...).
      model_kwargs: hyper-parameters over the preset (`{"num_steps": 4}`).
      dataset: `tfflows.data` name; "digits" needs no file.
      data_dir: TFDS data directory, or a directory of MNIST/Fashion IDX files.
      pad_to: zero-pad images to `pad_to x pad_to` (e.g. 32 for MNIST in Glow).
      num_bits: bit depth the model sees.
      data_autotune: tf.data autotuning of the input pipelines (`data.load`'s
        `autotune`; off avoids TF 2.21's stall of tens of seconds when Keras
        deletes the last epoch's iterator, seen on CPU with MNIST).
      epochs, batch_size: epochs, and the global batch size (over all replicas).
      learning_rate, lr_halve_every, lr_halve_after: Adam's rate and its
        step-halving schedule (see `callbacks.step_halving`).
      clipnorm: gradient-norm clipping (None: none).
      ema_momentum: keep a moving average of the weights with this momentum
        (Keras' `use_ema`); training ends with the average, its batch norms'
        statistics recomputed over 100 training batches, so the test
        metrics, samples and export use it, while validation during training
        and `best.keras` see the trained weights (None: no average).
      steps_per_epoch: cap on training steps per epoch (None: the whole set).
      validation_split, test_split: TFDS split strings; validation_split "" skips it.
      model_dir: checkpoints, metrics.csv, TensorBoard logs, samples, evaluation.
      export_dir: where the SavedModel goes ("" skips the export).
      strategy: "default", "mirrored", "multi_worker" or "tpu"; tpu: the TPU's name.
      jit_compile: XLA-compile the loss and gradients.
      seed: seed of weights, shuffling and dequantization.
      backup_every_steps: also back up every N steps within an epoch (0: epoch ends only).
      num_samples: images in the sample grids.
      verbose: Keras' progress output (1 bar, 2 one line per epoch, 0 silent).
    """

    model: str = "glow"
    preset: str = "small"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    dataset: str = "digits"
    data_dir: str | None = None
    pad_to: int | None = None
    num_bits: int = 8
    data_autotune: bool = True
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_halve_every: int = 0
    lr_halve_after: tuple = ()
    clipnorm: float | None = None
    ema_momentum: float | None = None
    steps_per_epoch: int | None = None
    validation_split: str = "test"
    test_split: str = "test"
    model_dir: str = "runs/default"
    export_dir: str = ""
    strategy: str = "default"
    tpu: str | None = None
    jit_compile: bool = False
    seed: int = 0
    backup_every_steps: int = 0
    num_samples: int = 64
    verbose: int = 1
