"""Mistakes on the command line fail in one line with exit status 2, before any work.

The binary's flag parsing runs in one subprocess for all the cases (absl's
flags are process-global); `check_config` is tested directly.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import tensorflow as tf

from tfflows.training import ConfigError, TrainConfig, check_config, train

REPO = pathlib.Path(__file__).resolve().parents[1]

# Runs trainers.train's parser on each argv; prints [exit status, stderr] per case.
_PARSE_EACH = r"""
import contextlib, io, json, sys
from trainers import train
results = []
for argv in json.loads(sys.argv[1]):
    train.FLAGS.unparse_flags()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            train.parse_flags(["train", *argv])
            code = 0
        except SystemExit as exit:
            code = exit.code
    results.append([code, err.getvalue()])
results.append([train.FLAGS["model"].help, train.FLAGS["glow_num_steps"].help])
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def model_dir_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mistakes") / "a_file"
    path.write_text("not a directory")
    return path


CASES = {
    "--epochs=-3": "epochs",
    "--epochs=0": "epochs",
    "--batch_size=0": "batch_size",
    "--model=glwo": "choose one of fvae, glf",  # lists the choices
    "--dataset=mnsit": "digits, fashion_mnist",
    "--preset=huge": "huge",
    "--glow_num_steps=many": "glow_num_steps",
    "--validation_split=test": "test set",
    # Missing data: named at once (the directory and the IDX files), no TFDS download.
    "--dataset=mnist --data_dir=/does/not/exist": "train-images-idx3-ubyte.gz",
}


def test_each_mistake_exits_2_in_one_line_naming_the_culprit(model_dir_file, tmp_path):
    argvs = [[*case.split(), f"--model_dir={tmp_path / 'run'}"] for case in CASES]
    argvs.append([f"--model_dir={model_dir_file}"])
    argvs.append([f"--model_dir={tmp_path / 'run'}", "--epochs=1"])  # a valid one
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_EACH, json.dumps(argvs)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    *outcomes, (model_help, steps_help) = json.loads(result.stdout.strip().splitlines()[-1])
    expected = [*CASES.values(), str(model_dir_file)]
    for argv, (code, err), culprit in zip(argvs, outcomes, expected):
        assert code == 2, (argv, err)
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
        assert culprit in err, (argv, err)
    assert outcomes[-1] == [0, ""]
    assert not (tmp_path / "run").exists()  # nothing created
    # --helpfull: the model names, and each preset's value of a model flag.
    assert "glow" in model_help and "vflow" in model_help
    assert "4 with --preset=small, 32 with --preset=default" in steps_help


@pytest.mark.parametrize(
    "field, value, culprit",
    [
        ("epochs", -3, "epochs"),
        ("batch_size", 0, "batch_size"),
        ("model", "nope", "glow"),
        ("preset", "huge", "huge"),
        ("dataset", "nope", "mnist"),
        ("steps_per_epoch", 0, "steps_per_epoch"),
    ],
)
def test_check_config_names_the_field(field, value, culprit):
    with pytest.raises(ConfigError) as error:
        check_config(TrainConfig(**{field: value}))
    assert culprit in str(error.value) and "\n" not in str(error.value)


def test_batch_not_divisible_by_replicas_fails_before_creating_model_dir(
    mirrored_strategy, tmp_path
):
    config = TrainConfig(batch_size=15, model_dir=str(tmp_path / "run"))
    with pytest.raises(ConfigError) as error:
        train(config, strategy=mirrored_strategy)
    assert "15" in str(error.value) and "2 replicas" in str(error.value)
    assert not (tmp_path / "run").exists()
    assert tf.distribute.get_strategy() is not mirrored_strategy
