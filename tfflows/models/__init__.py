"""One `keras.Model` per paper, on a shared API (`GenerativeModel`), built by name with `get`."""

from tfflows.models.base import GenerativeModel, images_from_batch
from tfflows.models.conditional_flow_vae import ConditionalFlowVAE, conditional_flow_terms
from tfflows.models.fvae import FVAE
from tfflows.models.glf import GLF
from tfflows.models.glow import Glow
from tfflows.models.phases import PhaseSwitch
from tfflows.models.registry import (
    get,
    model_class,
    names,
    preset_config,
    preset_names,
    register,
)
from tfflows.models.two_stage_vae import TwoStageVAE
from tfflows.models.vae import VAE
from tfflows.models.vae_flow_decoder import GlowPhase, VAEFlowDecoder
from tfflows.models.vae_flow_prior import VAEFlowPrior
from tfflows.models.vector_vflow import VectorVFlow
from tfflows.models.vflow import VFlow

__all__ = [
    "FVAE",
    "ConditionalFlowVAE",
    "conditional_flow_terms",
    "GLF",
    "TwoStageVAE",
    "VAE",
    "VAEFlowDecoder",
    "VAEFlowPrior",
    "VFlow",
    "VectorVFlow",
    "GenerativeModel",
    "GlowPhase",
    "PhaseSwitch",
    "Glow",
    "get",
    "images_from_batch",
    "model_class",
    "names",
    "preset_config",
    "preset_names",
    "register",
]
