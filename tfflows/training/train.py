"""The training run behind `python -m trainers.train`: fit, checkpoint, evaluate, export."""

import json
import pathlib

import keras

from tfflows import data, export, models
from tfflows.layers import recalibrate_batch_norm
from tfflows.training.callbacks import (
    ResumableCSVLogger,
    SampleGrid,
    TerminateOnNaN,
    step_halving,
)
from tfflows.training.config import TrainConfig
from tfflows.training.distribution import is_chief, make_strategy, worker_id
from tfflows.training.moving_average import averaging_options

__all__ = ["build_model", "image_shape_of", "train"]

RECALIBRATION_BATCHES = 100  # batch-norm statistics for averaged weights (ema_momentum)


def _load_kwargs(config):
    return dict(data_dir=config.data_dir, pad_to=config.pad_to, autotune=config.data_autotune)


def image_shape_of(config):
    """`(H, W, C)` of the configured data set, after padding."""
    spec = data.load(config.dataset, "train", prefetch=False, **_load_kwargs(config)).element_spec
    return tuple(int(d) for d in spec.shape)


def build_model(config, image_shape, strategy):
    """The configured model, built and compiled under `strategy`."""
    with strategy.scope():
        model = models.get(
            config.model,
            image_shape,
            preset=config.preset,
            num_bits=config.num_bits,
            **config.model_kwargs,
        )
        optimizer = model.make_optimizer(
            config.learning_rate,
            clipnorm=config.clipnorm,
            **averaging_options(config.ema_momentum),
        )
        model.compile(optimizer, jit_compile=config.jit_compile)
    return model


def _plain_batches(config):
    """Training batches in file order, the same on every worker (not distributed)."""
    return data.load(
        config.dataset,
        "train",
        batch_size=min(config.batch_size, 512),
        prefetch=False,
        **_load_kwargs(config),
    )


def _distributed(config, strategy, split, training):
    fn = data.dataset_fn(
        config.dataset,
        split,
        global_batch_size=config.batch_size,
        shuffle=training,
        seed=config.seed,
        drop_remainder=training,
        **_load_kwargs(config),
    )
    return strategy.distribute_datasets_from_function(fn)


def _callbacks(config, model_dir, strategy):
    chief = is_chief(strategy)
    # Every worker backs up (identical) state; only the chief's lands in model_dir.
    backup_dir = (
        model_dir / "backup" if chief else model_dir / f"backup_worker{worker_id(strategy)}"
    )
    callbacks = [
        keras.callbacks.LearningRateScheduler(
            step_halving(config.learning_rate, config.lr_halve_every, config.lr_halve_after)
        ),
        TerminateOnNaN(),
    ]
    if chief:
        callbacks += [
            ResumableCSVLogger(str(model_dir / "metrics.csv")),
            keras.callbacks.TensorBoard(str(model_dir / "tensorboard"), write_graph=False),
            SampleGrid(
                model_dir / "tensorboard" / "samples", num_samples=min(config.num_samples, 64)
            ),
        ]
        if config.validation_split:
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    str(model_dir / "best.keras"),
                    monitor="val_bits_per_dim",
                    mode="min",
                    save_best_only=True,
                )
            )
    # Last, so that an epoch is committed only once the logs above have it;
    # ResumableCSVLogger drops what a kill between the two left behind.
    callbacks.append(
        keras.callbacks.BackupAndRestore(
            str(backup_dir),
            save_freq=config.backup_every_steps or "epoch",
            delete_checkpoint=False,
        )
    )
    return callbacks


def train(config=None, strategy=None):
    """Trains, evaluates and exports the configured model; returns the test metrics.

    Resumable: re-running with the same `model_dir` continues from the last
    backup (weights, optimizer state and epoch; Keras' `BackupAndRestore`).
    Writes to `model_dir`: `metrics.csv` (a row per epoch, appended across
    resumes), `tensorboard/` (scalars and a sample grid per epoch),
    `best.keras` (best validation bits/dim), `evaluation.json` (test-set
    metrics), `samples.png`; and the SavedModel to `export_dir`.
    """
    config = config or TrainConfig()
    strategy = strategy or make_strategy(config.strategy, config.tpu)
    keras.utils.set_random_seed(config.seed)
    model_dir = pathlib.Path(config.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    image_shape = image_shape_of(config)
    model = build_model(config, image_shape, strategy)

    # The same first batch on every worker, so data-dependent initialisation
    # leaves all replicas identical; a resumed run overwrites it from the backup.
    model.initialize(next(iter(_plain_batches(config))))

    validation = (
        _distributed(config, strategy, config.validation_split, False)
        if (config.validation_split)
        else None
    )
    model.fit(
        _distributed(config, strategy, "train", True),
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        validation_data=validation,
        callbacks=_callbacks(config, model_dir, strategy) + model.training_callbacks(config.epochs),
        verbose=config.verbose,
    )

    if config.ema_momentum is not None:
        # fit ended with the averaged weights: their batch norms need statistics of their own.
        recalibrate_batch_norm(model, _plain_batches(config).take(RECALIBRATION_BATCHES))

    results = model.evaluate(
        _distributed(config, strategy, config.test_split, False), return_dict=True, verbose=0
    )
    results = {name: float(value) for name, value in results.items()}
    results.update(
        likelihood=model.likelihood_kind,
        split=config.test_split,
        dataset=config.dataset,
        model=config.model,
    )
    if is_chief(strategy):
        print("test:", json.dumps(results, sort_keys=True))
        (model_dir / "evaluation.json").write_text(json.dumps(results, indent=2, sort_keys=True))
        _write_samples(model, model_dir / "samples.png", config.num_samples)
        if config.export_dir:
            export.export_saved_model(model, config.export_dir)
    return results


def _write_samples(model, path, num_samples):
    grid = SampleGrid(png_path=path, num_samples=num_samples)
    grid.set_model(model)
    grid.on_epoch_end(0)
