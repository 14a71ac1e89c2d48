"""Models by name, with hyper-parameter presets: what the trainers build from flags."""

__all__ = ["get", "model_class", "names", "preset_config", "preset_names", "register"]

_MODELS = {}


def register(name, presets=None):
    """Class decorator: makes the model available as `get(name, ...)`.

    Args:
      name: the registry name (the trainers' `--model`).
      presets: `{preset: {hyper-parameter: value}}` applied over the class
        defaults; "default" (the class defaults) is always available.
    """

    def decorator(cls):
        if name in _MODELS:
            raise ValueError(f"A model named {name!r} is already registered.")
        _MODELS[name] = (cls, {"default": {}, **(presets or {})})
        return cls

    return decorator


def names():
    """The registered model names."""
    return sorted(_MODELS)


def preset_names(name):
    """The presets of model `name` ("default" and the ones it registered)."""
    return sorted(_lookup(name)[1])


def preset_config(name, preset="default"):
    """The hyper-parameters a preset sets for a model (beyond its defaults)."""
    cls, presets = _lookup(name)
    if preset not in presets:
        raise ValueError(f"Model {name!r} has presets {sorted(presets)}, not {preset!r}.")
    return dict(presets[preset])


def get(name, image_shape, preset="default", **overrides):
    """Builds model `name` for `image_shape` from a preset, with keyword overrides."""
    cls, _ = _lookup(name)
    return cls(image_shape=tuple(image_shape), **{**preset_config(name, preset), **overrides})


def model_class(name):
    """The class registered as `name`."""
    return _lookup(name)[0]


def _lookup(name):
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name!r}; registered: {', '.join(names())}.")
    return _MODELS[name]
