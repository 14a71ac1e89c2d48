"""tfflows.temperatures: temperatures checked once, from arguments and from flags."""

import math
import subprocess
import sys

import pytest
from absl import flags

from tfflows.temperatures import check_temperatures, parse_temperatures, register_flag_validator


def test_numbers_and_flag_strings_give_the_same_tuple():
    assert check_temperatures([0, 0.5, 1]) == (0.0, 0.5, 1.0)
    assert parse_temperatures(["0", "0.5", "1"]) == (0.0, 0.5, 1.0)
    assert parse_temperatures("0, 0.5,1,") == (0.0, 0.5, 1.0)


@pytest.mark.parametrize(
    "strings, culprit",
    [("0.5,-1", "-1.0"), ("x", "'x'"), ("nan", "nan"), ("inf", "inf"), ("", "empty")],
)
def test_bad_flag_strings_are_rejected_naming_the_flag_and_culprit(strings, culprit):
    with pytest.raises(ValueError, match=f"--select_temperatures.*{culprit}"):
        parse_temperatures(strings, "--select_temperatures")


def test_the_absl_validator_stops_bad_values_and_lets_an_empty_list_pass():
    values = flags.FlagValues()
    flags.DEFINE_list("temperatures", [], "A sweep.", flag_values=values)
    register_flag_validator("temperatures", values)
    values(["prog"])  # the empty default passes
    assert values.temperatures == []
    values(["prog", "--temperatures=0,0.5"])
    assert parse_temperatures(values.temperatures) == (0.0, 0.5)
    with pytest.raises(flags.IllegalFlagValueError, match="--temperatures.*'x'"):
        values(["prog", "--temperatures=0.5,x"])
    with pytest.raises(flags.IllegalFlagValueError, match="-2.0"):
        values(["prog", "--temperatures=-2"])
    assert math.isclose(parse_temperatures(["0.7"])[0], 0.7)


def test_the_module_loads_neither_tensorflow_nor_keras():
    # Binaries validate their flags with it before TensorFlow loads.
    code = (
        "import sys, tfflows.temperatures;"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
