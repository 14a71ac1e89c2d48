"""Smoke tests of benchmarks/glf_mnist.py: train, save, re-evaluate, schedules."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from benchmarks import glf_mnist
from benchmarks.time_budget import BudgetHalving, TimeBudget
from tfflows import models
from tfflows.optimizers import FusedAdam


def test_train_then_reevaluate_the_saved_weights(shared_data_dir, inception_weights, tmp_path):
    common = [
        f"--data_dir={shared_data_dir / 'mnist'}",
        "--num_fid_samples=12",
        "--num_fid_real=12",
        "--num_mse_images=100",
        "--fid_batch_size=12",
        "--fid_method=eigh",  # sqrtm of these singular 2048-d matrices: 30 s each
        "--sample_batch_size=6",
        "--protocols=standard,reference",
        "--lr_halve_after",
        "1",
        "2",
    ]
    trained = glf_mnist.main(
        [
            *common,
            "--minutes=0.001",
            "--ema_momentum=0.9",
            "--recalibration_batches=2",
            f"--output={tmp_path / 'train.json'}",
        ]
    )
    assert trained["steps"] >= 1 and trained["lr_halve_after"] == [1, 2]
    assert trained["ema_momentum"] == 0.9 and trained["weights_without_ema"].endswith(
        "glf_final_without_ema.weights.h5"
    )
    assert set(trained["without_ema"]["fid_by_protocol"]) == {"standard", "reference"}
    assert set(trained["fid_by_protocol"]) == {"standard", "reference"}
    assert trained["fid"] == trained["fid_by_protocol"]["standard"] > 0
    assert 0 < trained["test_reconstruction_mse_per_pixel"] < 0.5
    # A training curve per epoch, and the final weights' samples beside the JSON.
    assert len(trained["history"]["loss"]) == trained["epochs_started"] >= 1
    assert trained["history"]["loss"][-1] == pytest.approx(trained["final_train_metrics"]["loss"])
    assert trained["sample_grid"] == "train.png" and trained["sample_grid_protocol"] == "standard"
    with Image.open(tmp_path / "train.png") as grid:
        assert grid.size == (2 * (8 * 29 + 1),) * 2  # 8 x 8 images of 28 + 1 padding, scale 2
    written = json.loads((tmp_path / "train.json").read_text())
    assert written["weights"] == "glf_final.weights.h5" and written["seed"] == 0
    assert written["budget"] == {"epochs": 100, "minutes": 0.001}
    assert written["environment"]["command"].startswith(
        "python -m benchmarks.glf_mnist --data_dir=/path/to/"
    )

    evaluated = glf_mnist.main(
        [
            *common,
            "--weights",
            trained["weights"],
            "--fid_draws=3",
            f"--output={tmp_path / 'eval.json'}",
        ]
    )
    (again,) = evaluated["evaluations"]
    assert again["test_reconstruction_mse_per_pixel"] == pytest.approx(
        trained["test_reconstruction_mse_per_pixel"], rel=1e-5
    )
    for protocol, fid in trained["fid_by_protocol"].items():
        # Draw 0 is the single draw's sample seed, so the saved weights score the same.
        assert again["fid_by_protocol"][protocol] == pytest.approx(fid, rel=1e-3)
        draws = again["fid_draws"][protocol]
        assert draws["seeds"] == [0, 1000, 2000]
        assert draws["values"][0] == again["fid_by_protocol"][protocol]
        assert len(set(draws["values"])) == 3  # other seeds, other samples
        assert draws["mean"] == pytest.approx(np.mean(draws["values"]))
        assert draws["std"] == pytest.approx(np.std(draws["values"], ddof=1)) and draws["std"] > 0
    assert "fid_draws" not in trained  # one draw: no spread to report


def test_decoder_logit_scale_reaches_the_model():
    args = glf_mnist.parse_args(["--data_dir=unused", "--latent_dim=4", "--decoder_logit_scale=2"])
    assert glf_mnist.build(args).decoder_logit_scale == 2.0
    assert glf_mnist.build(glf_mnist.parse_args(["--data_dir=unused"])).decoder_logit_scale == 1.0


def test_flow_layout_flags_reach_the_model():
    flags = ["--data_dir=unused", "--latent_dim=4"]
    block = glf_mnist.build(glf_mnist.parse_args([*flags, "--flow_permute_every=block"]))
    assert block.flow.permute_every == "block"
    assert glf_mnist.build(glf_mnist.parse_args(flags)).flow.permute_every == "coupling"
    freia = glf_mnist.parse_args(
        [*flags, "--flow_scale_activation=atan", "--flow_affine_direction=inverse"]
    )
    coupling = glf_mnist.build(freia).flow.couplings[0]
    assert (coupling.scale_activation, coupling.affine_direction) == ("atan", "inverse")
    coupling = glf_mnist.build(glf_mnist.parse_args(flags)).flow.couplings[0]
    assert (coupling.scale_activation, coupling.affine_direction) == ("tanh", "forward")


@pytest.mark.parametrize(
    "flags, expected",
    [
        ([], ((50,), False)),
        (["--model=vae"], ((100,), False)),
        (["--lr_halve_after", "3", "9"], ((3, 9), False)),
        (["--epochs=14", "--lr_halve_at_fraction", "0.5"], ((7,), False)),
        (["--minutes=30", "--lr_halve_at_fraction", "0.5", "0.75"], ((), True)),
    ],
)
def test_learning_rate_schedule(flags, expected):
    args = glf_mnist.parse_args(["--data_dir=unused", *flags])
    assert glf_mnist.learning_rate_schedule(args) == expected


def test_learning_rate_schedule_takes_one_of_the_two_flags():
    args = glf_mnist.parse_args(
        ["--data_dir=unused", "--lr_halve_after", "3", "--lr_halve_at_fraction", "0.5"]
    )
    with pytest.raises(SystemExit, match="replaces"):
        glf_mnist.learning_rate_schedule(args)


def test_budget_halving_halves_at_each_fraction_of_the_time():
    class Clock:  # a TimeBudget whose elapsed time the test sets
        seconds, elapsed, steps = 100.0, 0.0, 0

    clock = Clock()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    halving = BudgetHalving(clock, 1e-3, [0.75, 0.5])
    halving.set_model(model)
    rates = []
    for elapsed in (0.0, 49.0, 50.0, 60.0, 80.0, 99.0):
        clock.elapsed, clock.steps = elapsed, clock.steps + 1
        halving.on_train_batch_begin(0)
        rates.append(float(model.optimizer.learning_rate.numpy()))
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4])
    assert halving.halvings == [{"fraction": 0.5, "step": 3}, {"fraction": 0.75, "step": 5}]


def test_train_halves_by_time_without_the_epoch_schedule(shared_data_dir, tmp_path):
    model = models.get("glf", (28, 28, 1), latent_dim=4, flow_blocks=1, flow_hidden_units=8)
    model.compile(model.make_optimizer(1e-3))
    flags = [f"--data_dir={shared_data_dir / 'mnist'}", "--minutes=0.0001"]
    args = glf_mnist.parse_args([*flags, "--lr_halve_at_fraction", "0.0"])
    facts = glf_mnist.train(model, args, str(tmp_path))
    assert facts["lr_halve_after"] == [] and facts["steps"] >= 1
    assert facts["lr_halvings_by_time"] == [{"fraction": 0.0, "step": 0}]
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(5e-4)
    # The epoch schedule would set the rate back at the next epoch's start.
    halving = glf_mnist.schedule_callback(args, None, *glf_mnist.learning_rate_schedule(args))
    assert isinstance(halving, BudgetHalving)
    by_epochs = glf_mnist.parse_args([*flags, "--lr_halve_after", "3"])
    scheduler = glf_mnist.schedule_callback(
        by_epochs, None, *glf_mnist.learning_rate_schedule(by_epochs)
    )
    assert isinstance(scheduler, keras.callbacks.LearningRateScheduler)
    assert scheduler.schedule(3) == 5e-4 and scheduler.schedule(2) == 1e-3


class _Recorder(keras.callbacks.Callback):
    """The weights and the optimizer's averages after every step."""

    def __init__(self):
        super().__init__()
        self.weights, self.averages = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append([v.numpy() for v in self.model.trainable_variables])
        averages = self.model.optimizer._model_variables_moving_average
        self.averages.append([a.numpy() for a in averages])


def test_time_budget_saves_the_average_and_the_trained_weights(tmp_path):
    keras.utils.set_random_seed(2)
    norm = keras.layers.BatchNormalization(momentum=0.9)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), norm, keras.layers.Dense(1)]
    )
    model.compile(FusedAdam(0.1, use_ema=True, ema_momentum=0.5), loss="mse")
    x, y = np.random.default_rng(0).normal(size=(24, 3)).astype(np.float32), np.ones((24, 1))
    for _ in range(3):  # so that the average already differs at the snapshot
        model.train_on_batch(x[:8], y[:8])

    def path(minutes, suffix=""):
        return str(tmp_path / f"{'final' if minutes is None else minutes}{suffix}.weights.h5")

    recalibration = [x[:8], x[8:16]]
    budget = TimeBudget(None, (0.0,), path, recalibration)
    recorder = _Recorder()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[budget, recorder])
    assert budget.snapshots == [
        {
            "minutes": 0.0,
            "steps": 1,
            "weights": path(0.0),
            "weights_without_ema": path(0.0, "_without_ema"),
        }
    ]
    averaged = [v.numpy() for v in model.trainable_variables]  # fit ends with the average

    def saved(file):
        model.load_weights(file)
        return [v.numpy() for v in model.trainable_variables]

    for file, want in [
        (path(0.0), recorder.averages[0]),
        (path(0.0, "_without_ema"), recorder.weights[0]),
        (path(None, "_without_ema"), recorder.weights[-1]),
    ]:
        for got, expected in zip(saved(file), want):
            np.testing.assert_allclose(got, expected, rtol=1e-6)
    # The snapshot of the average carries batch statistics of the average's own.
    model.load_weights(path(0.0))
    kernel, bias = recorder.averages[0][:2]
    means = [(batch @ kernel + bias).mean(axis=0) for batch in recalibration]
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean(means, axis=0), rtol=1e-5)
    for average, want, trained in zip(averaged, recorder.averages[-1], recorder.weights[-1]):
        np.testing.assert_allclose(average, want, rtol=1e-6)
        assert not np.allclose(average, trained)


def test_fashion_mnist_run_trains_and_scores_on_fashion_mnist(
    shared_data_dir, inception_weights, tmp_path
):
    result = glf_mnist.main(
        [
            f"--data_dir={shared_data_dir / 'fashion'}",
            "--dataset=fashion_mnist",
            "--minutes=0.001",
            "--num_fid_samples=12",
            "--num_fid_real=12",
            "--num_mse_images=100",
            "--fid_batch_size=12",
            "--fid_method=eigh",
            "--sample_batch_size=6",
            "--protocols=standard",
            f"--output={tmp_path / 'fashion.json'}",
        ]
    )
    assert result["dataset"] == "fashion_mnist" and result["steps"] >= 1
    assert (tmp_path / "fashion_mnist_test_12_inception.npz").exists()
    assert not (tmp_path / "mnist_test_12_inception.npz").exists()
