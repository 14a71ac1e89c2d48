"""A flag per hyper-parameter of every registered model: `--<model>_<name>`.

Types come from the constructor defaults and help texts from the class
docstring's `Args:` section, so `--helpfull` documents every model, with the
value each preset gives (the trainer's default preset first). A flag left at
its (None) default keeps the preset's value.
"""

import inspect
import json
import re

from absl import flags

from tfflows import models

__all__ = ["define_model_flags", "model_kwargs"]

_SKIP = {"self", "image_shape", "num_bits", "kwargs"}


def _arg_docs(cls):
    docs, current = {}, None
    in_args = False
    for line in (inspect.getdoc(cls) or "").splitlines():
        if line.strip() == "Args:":
            in_args = True
            continue
        if in_args:
            match = re.match(r"^  (\w+): (.*)", line)
            if match:
                current = match.group(1)
                docs[current] = match.group(2).strip()
            elif line.startswith("    ") and current:
                docs[current] += " " + line.strip()
            elif line.strip() and not line.startswith(" "):
                in_args = False
    return docs


def _parameters(name):
    cls = models.model_class(name)
    for parameter in inspect.signature(cls.__init__).parameters.values():
        if parameter.name in _SKIP or parameter.kind is parameter.VAR_KEYWORD:
            continue
        yield parameter


def _presets(name):
    return {preset: models.preset_config(name, preset) for preset in models.preset_names(name)}


def _defaults_text(name, parameter, first_preset):
    presets = _presets(name)
    order = sorted(presets, key=lambda preset: (preset != first_preset, preset))
    values = [
        f"{presets[preset].get(parameter.name, parameter.default)!r} with --preset={preset}"
        for preset in order
    ]
    return "default: " + ", ".join(values)


def define_model_flags(flag_values=flags.FLAGS, first_preset="small"):
    """Defines `--<model>_<parameter>` for every registered model.

    Each help text ends with the value of every preset, `first_preset` first.
    """
    for name in models.names():
        docs = _arg_docs(models.model_class(name))
        for parameter in _parameters(name):
            default = parameter.default
            text = (
                f"[{name}] {docs.get(parameter.name, parameter.name)} "
                f"({_defaults_text(name, parameter, first_preset)})"
            )
            flag_name = f"{name}_{parameter.name}"
            if isinstance(default, bool):
                flags.DEFINE_bool(flag_name, None, text, flag_values=flag_values)
            elif isinstance(default, int):
                flags.DEFINE_integer(flag_name, None, text, flag_values=flag_values)
            elif isinstance(default, float):
                flags.DEFINE_float(flag_name, None, text, flag_values=flag_values)
            elif isinstance(default, (tuple, list)):
                flags.DEFINE_list(flag_name, None, text, flag_values=flag_values)
            elif isinstance(default, str):
                flags.DEFINE_string(flag_name, None, text, flag_values=flag_values)
            else:
                flags.DEFINE_string(flag_name, None, text + " (JSON)", flag_values=flag_values)


def _convert(value, default):
    if isinstance(default, (tuple, list)):
        kind = type(default[0]) if default else str
        return tuple(kind(v) for v in value)
    if isinstance(value, str) and not isinstance(default, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def model_kwargs(name, flag_values=flags.FLAGS):
    """The hyper-parameters set on the command line for model `name`."""
    kwargs = {}
    for parameter in _parameters(name):
        flag = flag_values[f"{name}_{parameter.name}"]
        if flag.present or flag.value is not None:
            kwargs[parameter.name] = _convert(flag.value, parameter.default)
    return kwargs
