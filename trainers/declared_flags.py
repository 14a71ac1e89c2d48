"""absl flags derived from the declarations they set, so a new setting is written once.

- `define_config_flags`: a flag per field of a dataclass (`TrainConfig`), typed by its
  annotation, defaulting to its default, documented by the class docstring's
  `Attributes:` entry.
- `define_model_flags`: `--<model>_<name>` per constructor argument of every
  registered model, including those a model passes on to its base classes through
  `**kwargs`; typed by the default, documented by the `Args:` entries of the
  class and its bases, with the value each preset gives. A model flag left at
  its (None) default keeps the preset's value.
"""

import dataclasses
import inspect
import json
import re
import types
import typing

from absl import flags

from tfflows import models

__all__ = [
    "config_values",
    "define_config_flags",
    "define_model_flags",
    "docstring_entries",
    "model_kwargs",
    "model_parameters",
]

_SKIP = {"self", "image_shape", "num_bits", "kwargs"}


def docstring_entries(cls, section="Args:"):
    """`{name: text}` from a Google-style docstring section; `a, b: text` documents both."""
    docs, current, inside = {}, [], False
    for line in (inspect.getdoc(cls) or "").splitlines():
        if line.strip() == section:
            inside = True
            continue
        if not inside:
            continue
        match = re.match(r"^  (\w+(?:, \w+)*): (.*)", line)
        if match:
            current = match.group(1).split(", ")
            for name in current:
                docs[name] = match.group(2).strip()
        elif line.startswith("    ") and current:
            for name in current:
                docs[name] += " " + line.strip()
        elif line.strip() and not line.startswith(" "):
            inside = False
    return docs


def _define(name, kind, default, text, flag_values, enum_values=None):
    if enum_values is not None:
        flags.DEFINE_enum(name, default, list(enum_values), text, flag_values=flag_values)
    elif kind is bool:
        flags.DEFINE_bool(name, default, text, flag_values=flag_values)
    elif kind is int:
        flags.DEFINE_integer(name, default, text, flag_values=flag_values)
    elif kind is float:
        flags.DEFINE_float(name, default, text, flag_values=flag_values)
    elif kind in (tuple, list):
        flags.DEFINE_list(name, default, text, flag_values=flag_values)
    elif kind is str:
        flags.DEFINE_string(name, default, text, flag_values=flag_values)
    else:
        flags.DEFINE_string(name, default, text + " (JSON)", flag_values=flag_values)


def _base_type(annotation):
    """`int` from `int`, `int | None` or `Optional[int]`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    return typing.get_origin(annotation) or annotation


def define_config_flags(
    config_cls, flag_values=flags.FLAGS, skip=(), helps=None, enums=None, defaults=None
):
    """A flag per field of the dataclass `config_cls` (but `skip`); returns their names.

    `helps` adds text to a field's docstring entry (e.g. the choices); `enums`
    makes a field an enum flag over the given values; `defaults` replaces a
    field's default for the binary (say why in `helps`).
    """
    docs = docstring_entries(config_cls, "Attributes:")
    hints = typing.get_type_hints(config_cls)
    helps, enums, defaults, names = helps or {}, enums or {}, defaults or {}, []
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        default = field.default
        if default is dataclasses.MISSING:
            default = field.default_factory()
        default = defaults.get(field.name, default)
        kind = _base_type(hints[field.name])
        default = list(default) if kind in (tuple, list) else default
        text = " ".join(t for t in (docs.get(field.name, field.name), helps.get(field.name)) if t)
        _define(field.name, kind, default, text, flag_values, enums.get(field.name))
        names.append(field.name)
    return names


def config_values(config_cls, names, flag_values=flags.FLAGS):
    """`{name: value}` of the flags `names` of `config_cls`'s fields, typed as the fields."""
    hints = typing.get_type_hints(config_cls)
    values = {}
    for name in names:
        value = flag_values[name].value
        if _base_type(hints[name]) is tuple and value is not None:
            value = tuple(int(v) if re.fullmatch(r"-?\d+", str(v)) else v for v in value)
        values[name] = value
    return values


def model_parameters(name):
    """The constructor parameters of model `name`, through `**kwargs` to its bases.

    A subclass's parameter shadows its bases' of the same name; the walk stops
    at a constructor without `**kwargs` or at `GenerativeModel`, whose own
    arguments (`image_shape`, `num_bits`) the trainer sets.
    """
    parameters = {}
    for cls in models.model_class(name).__mro__:
        if "__init__" not in vars(cls):
            continue
        signature = inspect.signature(cls.__init__).parameters.values()
        for parameter in signature:
            if parameter.name not in _SKIP and parameter.kind is not parameter.VAR_KEYWORD:
                parameters.setdefault(parameter.name, parameter)
        if cls is models.GenerativeModel or all(p.kind is not p.VAR_KEYWORD for p in signature):
            break
    return list(parameters.values())


def _model_docs(name):
    docs = {}
    for cls in reversed(models.model_class(name).__mro__):
        docs.update(docstring_entries(cls))
    return docs


def _defaults_text(name, parameter, first_preset):
    presets = {p: models.preset_config(name, p) for p in models.preset_names(name)}
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
        docs = _model_docs(name)
        for parameter in model_parameters(name):
            text = (
                f"[{name}] {docs.get(parameter.name, parameter.name)} "
                f"({_defaults_text(name, parameter, first_preset)})"
            )
            default = parameter.default
            kind = type(default) if isinstance(default, (bool, int, float, str, tuple)) else None
            kind = list if isinstance(default, list) else kind
            _define(f"{name}_{parameter.name}", kind, None, text, flag_values)


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
    for parameter in model_parameters(name):
        flag = flag_values[f"{name}_{parameter.name}"]
        if flag.present or flag.value is not None:
            kwargs[parameter.name] = _convert(flag.value, parameter.default)
    return kwargs
