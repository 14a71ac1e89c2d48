"""tfflows: generative models joining auto-encoders and normalizing flows.

Sub-packages, each importing only from the ones before it:
`bijectors` (TFP maths) <- `layers` (Keras 3 layers owning weights) <-
`models` <- `export`; `data` and `metrics` are leaves.
"""

from tfflows import bijectors, layers

__version__ = "0.1.0"

__all__ = ["bijectors", "layers"]
