"""One `keras.Model` per paper, on a shared API (`GenerativeModel`), built by name with `get`."""

from tfflows.models.base import GenerativeModel, images_from_batch
from tfflows.models.glow import Glow
from tfflows.models.registry import get, model_class, names, preset_config, register
from tfflows.models.vae import VAE

__all__ = [
    "VAE",
    "GenerativeModel",
    "Glow",
    "get",
    "images_from_batch",
    "model_class",
    "names",
    "preset_config",
    "register",
]
