"""Sampling temperatures as arguments and flags: checked once, named in every error.

A temperature `T >= 0` scales the base distribution's noise when sampling
(Glow's section 5, f-VAE's eq. 16, the flow-decoder VAE's Glow layer).
`check_temperatures` validates numbers passed to the library;
`parse_temperatures` turns a flag's strings (`--temperatures=0,0.5,1`) into
them. Pure Python, so a binary can validate its flags before TensorFlow loads.
"""

import math

__all__ = ["check_temperatures", "parse_temperatures", "register_flag_validator"]


def check_temperatures(temperatures, name="temperatures"):
    """`temperatures` as a tuple of finite floats >= 0, else a `ValueError` naming the culprit."""
    if isinstance(temperatures, (str, bytes)) or not hasattr(temperatures, "__iter__"):
        raise ValueError(f"{name} must be a list of numbers, got {temperatures!r}.")
    checked = []
    for value in temperatures:
        try:
            t = float(value)
            ok = not isinstance(value, (bool, str, bytes)) and math.isfinite(t) and t >= 0.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{name} must be finite numbers >= 0, got {value!r}.")
        checked.append(t)
    if not checked:
        raise ValueError(f"{name} is empty: give at least one temperature.")
    return tuple(checked)


def parse_temperatures(strings, name="--temperatures"):
    """A flag's strings (a list, or one comma-separated string) as `check_temperatures` gives.

    Empty items are dropped (`"0.5,"`); the error names the flag and the
    string that is not a temperature, e.g. `--temperatures must be finite
    numbers >= 0, got 'x'`.
    """
    if isinstance(strings, str):
        strings = strings.split(",")
    values = []
    for text in (s.strip() for s in strings):
        if not text:
            continue
        try:
            values.append(float(text))
        except ValueError:
            raise ValueError(f"{name} must be finite numbers >= 0, got {text!r}.") from None
    return check_temperatures(values, name)


def register_flag_validator(name, flag_values=None):
    """Checks the absl list flag `--name` with `parse_temperatures` when flags are parsed.

    An empty list passes (the flag is optional); a bad one stops the binary
    with absl's usage error naming the flag and the culprit.
    """
    from absl import flags  # absl comes with TensorFlow; imported here to keep this a leaf

    def checker(values):
        if values:
            try:
                parse_temperatures(values, f"--{name}")
            except ValueError as error:
                raise flags.ValidationError(str(error)) from None
        return True

    flags.register_validator(name, checker, flag_values=flag_values or flags.FLAGS)
