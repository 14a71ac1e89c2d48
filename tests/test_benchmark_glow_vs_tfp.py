"""Smoke test of benchmarks/glow_vs_tfp.py: equal training time, then bits/dim of both flows."""

import argparse
import itertools
import json
import math

import tensorflow as tf

from benchmarks import glow_vs_tfp


def test_both_flows_train_equal_time_and_are_scored_on_the_same_images(tmp_path):
    output = tmp_path / "glow_vs_tfp.json"
    result = glow_vs_tfp.main(
        [
            "--dataset=digits",
            "--minutes=0.01",
            "--chunk_seconds=0.2",
            "--levels=2",
            "--steps=1",
            "--width=8",
            "--batch_size=16",
            "--num_eval=40",
            f"--output={output}",
        ]
    )
    rows = {row["model"]: row for row in result["rows"]}
    assert set(rows) == {"tfflows", "tfb.Glow"}
    for row in rows.values():
        assert row["diverged"] is None and row["train_steps"] > 1 and row["num_eval"] == 40
        assert 0.6 <= row["train_seconds"] < 0.6 + 0.5  # the budget, overrun by one step at most
        assert len(row["curve"]) >= 3 and row["curve"][-1]["steps"] == row["train_steps"]
        assert 1.0 < row["bits_per_dim"] < 16.0 and math.isfinite(row["bits_per_dim"])
    # Same architecture: the parameter counts differ only by the two libraries' bookkeeping.
    assert (
        abs(rows["tfflows"]["parameters"] - rows["tfb.Glow"]["parameters"])
        < 0.1 * (rows["tfflows"]["parameters"])
    )
    saved = json.loads(output.read_text())
    assert saved["config"]["levels"] == 2 and "cpu" in saved["environment"]


def test_a_diverging_flow_stops_and_says_where():
    args = argparse.Namespace(xla=0)
    variable = tf.Variable(1.0)
    contestant = glow_vs_tfp.Contestant(
        "nan",
        lambda y: tf.fill([2], variable * math.nan),
        [variable],
        tf.keras.optimizers.SGD(),
        args,
    )
    contestant.train_for(5.0, itertools.repeat(tf.zeros([2, 8, 8, 1])), num_pixels=64)
    assert contestant.diverged == "loss nan at step 1" and contestant.curve == []
    assert contestant.seconds < 5.0  # it stopped at once, not at the end of its turn
