"""Export of tfflows models as SavedModels for TF Serving."""

from tfflows.export.saved_model import LOG_PROB_SEED, export_saved_model

__all__ = ["LOG_PROB_SEED", "export_saved_model"]
