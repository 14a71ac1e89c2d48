"""The training run behind `python -m trainers.train`: fit, checkpoint, evaluate, export."""

import dataclasses
import json
import pathlib
import signal

import keras

from tfflows import data, export, models
from tfflows.layers import recalibrate_batch_norm
from tfflows.metrics import pixel_accounting, warn_if_nonfinite
from tfflows.training.backup import Backup, check_run, start_over
from tfflows.training.callbacks import (
    BackupEvery,
    BestCheckpoint,
    ResumableCSVLogger,
    SampleGrid,
    step_halving,
)
from tfflows.training.config import TrainConfig, check_config
from tfflows.training.distribution import is_chief, make_strategy, worker_id
from tfflows.training.faults import ConfigError, Interrupted, NonFiniteGuard, interruptible
from tfflows.training.files import replace_directory, replace_file
from tfflows.training.moving_average import averaging_options

__all__ = ["build_model", "image_shape_of", "train"]

RECALIBRATION_BATCHES = 100  # batch-norm statistics for averaged weights (ema_momentum)
NONFINITE_CHECK_SAMPLES = 1000  # samples at T = 1 counted for NaN/inf in evaluation.json


def _load_kwargs(config):
    return dict(
        data_dir=config.data_dir,
        pad_to=config.pad_to,
        autotune=config.data_autotune,
        download=config.download,
    )


def _unpadded_shape(config):
    return image_shape_of(dataclasses.replace(config, pad_to=None)) if config.pad_to else None


def image_shape_of(config):
    """`(H, W, C)` of the configured data set, after padding."""
    spec = data.load(
        config.dataset, config.train_split, prefetch=False, **_load_kwargs(config)
    ).element_spec
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
        config.train_split,
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
        # With steps_per_epoch Keras keeps one iterator across epochs: without
        # repeating, a later epoch ran out of data and training stopped early.
        repeat=training and config.steps_per_epoch is not None,
        **_load_kwargs(config),
    )
    return strategy.distribute_datasets_from_function(fn)


def _callbacks(config, model_dir, strategy, backup):
    # After train()'s NonFiniteGuard, which raises at a non-finite loss before these save.
    chief = is_chief(strategy)
    callbacks = [
        keras.callbacks.LearningRateScheduler(
            step_halving(config.learning_rate, config.lr_halve_every, config.lr_halve_after)
        ),
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
            callbacks.append(BestCheckpoint(model_dir / "best.keras", "val_bits_per_dim"))
    # Last, so that an epoch is committed only once the logs above have it;
    # ResumableCSVLogger drops what a kill between the two left behind.
    callbacks.append(BackupEvery(backup, config.backup_every_steps))
    return callbacks


def _num_images(config, split):
    images = data.load(config.dataset, split, prefetch=False, **_load_kwargs(config))
    count = int(images.cardinality())
    return count if count >= 0 else int(images.reduce(0, lambda n, _: n + 1))


def _prepare_model_dir(config, strategy):
    """Checks the run directory and claims it; what `train` does before building anything."""
    model_dir = pathlib.Path(config.model_dir)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ConfigError(
            f"batch_size {config.batch_size} is not divisible by the {replicas} replicas; "
            f"use a multiple of {replicas}"
        )
    if is_chief(strategy):
        if config.start_over:
            start_over(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        check_run(model_dir, config)
    # Every worker backs up (identical) state; only the chief's lands in model_dir/backup.
    suffix = "" if is_chief(strategy) else f"_worker{worker_id(strategy)}"
    return model_dir, Backup(model_dir / f"backup{suffix}")


def train(config=None, strategy=None):
    """Trains, evaluates and exports the configured model; returns the test metrics.

    Resumable: re-running with the same `model_dir` continues from the newest
    backup that loads (weights, optimizer state and epoch; `Backup` keeps two
    generations), and refuses a `model_dir` holding another run
    (`RunMismatchError`; `start_over` discards it). Stops with a
    `TrainingError` (`NonFiniteError`, `ResumeError`, `ConfigError`, ...)
    whose message says what happened in one line; a non-finite loss stops
    the run before any file is written from the bad weights.

    Writes to `model_dir`: `run.json` (the run's model and data), `backup/`,
    `metrics.csv` (a row per epoch, appended across resumes),
    `tensorboard/` (scalars and a sample grid per epoch), `best.keras` (best
    validation bits/dim, with `best.json`), `evaluation.json` (test-set
    metrics, naming the validation and test splits and their sizes),
    `samples.png`; and the SavedModel to `export_dir`, atomically (a run
    killed while exporting leaves the previous SavedModel or none).
    """
    config = config or TrainConfig()
    check_config(config)
    strategy = strategy or make_strategy(config.strategy, config.tpu)
    guard = NonFiniteGuard()
    trained = []
    with interruptible():
        try:
            return _run(config, strategy, guard, trained)
        except (KeyboardInterrupt, Interrupted) as error:
            signum = getattr(error, "exit_code", 128 + signal.SIGINT) - 128
            if trained:
                where = "after training, while evaluating or exporting"
            elif guard.epoch:
                where = f"at epoch {guard.epoch} step {guard.step}"
            else:
                where = "before training started"
            raise Interrupted(
                f"interrupted {where}; re-run the same command to resume", signum
            ) from None


def _run(config, strategy, guard, trained):
    model_dir, backup = _prepare_model_dir(config, strategy)
    keras.utils.set_random_seed(config.seed)
    image_shape = image_shape_of(config)
    model = build_model(config, image_shape, strategy)

    # The same first batch on every worker, so data-dependent initialisation
    # leaves all replicas identical; a resumed run overwrites it from the backup.
    model.initialize(next(iter(_plain_batches(config))))
    initial_epoch, notes = backup.restore(model, strategy)
    for note in notes:
        print(f"backup: {note}")
    if initial_epoch is not None and initial_epoch >= config.epochs:
        print(f"already trained {initial_epoch} epochs ({backup.directory}); evaluating")
    elif initial_epoch is not None:
        print(f"resuming from epoch {initial_epoch + 1} of {config.epochs} ({backup.directory})")

    validation = (
        _distributed(config, strategy, config.validation_split, False)
        if config.validation_split
        else None
    )
    model.fit(
        _distributed(config, strategy, config.train_split, True),
        epochs=config.epochs,
        initial_epoch=initial_epoch or 0,
        steps_per_epoch=config.steps_per_epoch,
        validation_data=validation,
        shuffle=False,  # the data sets shuffle themselves
        callbacks=[guard]
        + _callbacks(config, model_dir, strategy, backup)
        + model.training_callbacks(config.epochs),
        verbose=config.verbose,
    )
    trained.append(True)

    if config.ema_momentum is not None:
        # fit ended with the averaged weights: their batch norms need statistics of their own.
        recalibrate_batch_norm(model, _plain_batches(config).take(RECALIBRATION_BATCHES))

    results = model.evaluate(
        _distributed(config, strategy, config.test_split, False), return_dict=True, verbose=0
    )
    results = {name: float(value) for name, value in results.items()}
    results.update(
        likelihood=model.likelihood_kind,
        dequantization=model.dequantization,
        split=config.test_split,
        test_split=config.test_split,
        num_test_images=_num_images(config, config.test_split),
        validation_split=config.validation_split or None,
        num_validation_images=(
            _num_images(config, config.validation_split) if config.validation_split else 0
        ),
        dataset=config.dataset,
        model=config.model,
        **_nonfinite_samples(model),
        **pixel_accounting(results["log_likelihood"], image_shape, _unpadded_shape(config)),
    )
    if is_chief(strategy):
        replace_file(
            model_dir / "evaluation.json",
            lambda path: path.write_text(json.dumps(results, indent=2, sort_keys=True)),
        )
        _write_samples(model, model_dir / "samples.png", config.num_samples)
        if config.export_dir:
            replace_directory(
                config.export_dir, lambda path: export.export_saved_model(model, path)
            )
    return results


def _nonfinite_samples(model, num_samples=NONFINITE_CHECK_SAMPLES, batch_size=100):
    """`nonfinite_samples` among `num_samples` drawn at T = 1 (seeded), for evaluation.json."""
    count = sum(
        warn_if_nonfinite(
            model.sample(min(batch_size, num_samples - start), seed=start), "final samples at T = 1"
        )
        for start in range(0, num_samples, batch_size)
    )
    return {"nonfinite_samples": count, "nonfinite_samples_of": num_samples}


def _write_samples(model, path, num_samples):
    grid = SampleGrid(png_path=path, num_samples=num_samples)
    grid.set_model(model)
    grid.on_epoch_end(0)
