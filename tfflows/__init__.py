"""tfflows: generative models joining auto-encoders and normalizing flows.

Sub-packages, each importing only from the ones before it:
`bijectors` (TFP maths) <- `layers` (Keras 3 layers owning weights) <-
`models` <- `export` <- `training`; `data`, `metrics`, `optimizers`,
`temperatures` and `visualization` are leaves. They load on first use
(`tfflows.models`, or `import tfflows.models`), so a program that needs one
part, e.g. `tfflows.visualization` next to a SavedModel, imports neither
Keras nor TFP.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "bijectors",
    "data",
    "export",
    "layers",
    "metrics",
    "models",
    "optimizers",
    "temperatures",
    "training",
    "visualization",
)

__all__ = list(_SUBMODULES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"tfflows.{name}")
    raise AttributeError(f"module 'tfflows' has no attribute {name!r}")
