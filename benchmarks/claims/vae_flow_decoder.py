"""The VAE with a normalizing-flow decoder (paper 002): its claims."""

from benchmarks.claims.base import (
    Claim,
    Paper,
    not_measurable,
    not_measured,
)

__all__ = ["CLAIMS", "PAPER", "PLOTS"]

PAPER = Paper(
    "vae_flow_decoder",
    "Flow decoder",
    "VAE with a normalizing-flow decoder (ICLR 2020 submission)",
    "paper 002",
    ("vae_flow_decoder",),
    pending=(
        "Figure 4's pair: samples of the underlying VAE beside the same latents through the "
        "Glow layer.",
        "FID against the Glow layer's temperature.",
    ),
)


CLAIMS = (
    # The VAE with a flow decoder (paper 002).
    Claim(
        id="vfd-competitive-with-glow",
        paper="vae_flow_decoder",
        short="As good as Glow, far less training",
        statement=(
            "Abstract and Tables 2-3: competitive with Glow in image quality (FID) while "
            "requiring far less training time."
        ),
        paper_number="- (FID tables)",
        verdict=not_measured(
            "FID and bits/dim at equal minutes against Glow: `fvae_compare.py` needs a "
            "`vae_flow_decoder` architecture (both phases inside the budget), then "
            "`--models=vae_flow_decoder,glow --minutes=30 --results_dir=benchmarks/results`."
        ),
    ),
    Claim(
        id="vfd-epoch-time",
        paper="vae_flow_decoder",
        short="3.5x faster per epoch than Glow (Table 4)",
        statement="Table 4 (CIFAR-10, GTX 1080 Ti): the model trains over 3.5x faster than Glow.",
        paper_number="3.5x",
        verdict=not_measured(
            "Seconds per epoch of both phases against Glow at the paper's architectures on the "
            "same machine (a `model_throughput.py` row per model)."
        ),
    ),
    Claim(
        id="vfd-cifar",
        paper="vae_flow_decoder",
        short="Best likelihood-model FID on CIFAR-10 (Table 2)",
        statement=(
            "Table 2: state-of-the-art FID on CIFAR-10 for a likelihood-based model, and a "
            "better test bits/dim than Glow."
        ),
        paper_number="- (Table 2)",
        verdict=not_measurable(
            "1,000 + 1,000 epochs of a ResNet VAE and a depth-32 Glow layer on CIFAR-10 need "
            "GPUs; these machines have 2 CPU cores"
        ),
    ),
    Claim(
        id="vfd-temperature",
        paper="vae_flow_decoder",
        short="Glow-layer temperature 0.5 gives the best FID",
        statement=(
            "Section 3.5: temperature 0.5 in the Glow layer gave the best FID in all "
            "experiments, without sacrificing diversity."
        ),
        paper_number="T = 0.5",
        verdict=not_measured("FID of one trained model over Glow-layer temperatures 0 to 1."),
    ),
    Claim(
        id="vfd-sharpening",
        paper="vae_flow_decoder",
        short="The Glow layer sharpens VAE samples (Figure 4)",
        statement=(
            "Figure 4: the Glow layer sharpens the underlying VAE's blurry samples and keeps "
            "their content."
        ),
        paper_number="- (Figure 4)",
        verdict=not_measured(
            "The pair of grids (VAE mean, then through the Glow layer, same latents) and their "
            "FIDs, from a trained model."
        ),
    ),
    Claim(
        id="vfd-diagonal-decoder",
        paper="vae_flow_decoder",
        short="Per-pixel decoder variance improves FID",
        statement=(
            "Section 3.1: a diagonal (per-pixel) Gaussian decoder instead of an isotropic one "
            "significantly improves the full model's FID."
        ),
        paper_number="-",
        verdict=not_measured("FID of the full model with a per-pixel against a scalar variance."),
    ),
    Claim(
        id="vfd-two-phases",
        paper="vae_flow_decoder",
        short="Two phases beat joint training",
        statement=(
            "Section 3.4: training everything jointly in one phase gives poorer images than the "
            "two phases."
        ),
        paper_number="-",
        verdict=not_measured("FID of the two-phase schedule against one joint phase."),
    ),
    Claim(
        id="vfd-flow-prior-vs-two-stage",
        paper="vae_flow_decoder",
        short="Flow prior beats the two-stage VAE (Table 1)",
        statement=(
            "Table 1 (Fashion-MNIST, CIFAR-10): a normalizing-flow prior gives better FID than "
            "the second-stage VAE of Dai & Wipf."
        ),
        paper_number="- (Table 1)",
        verdict=not_measured(
            "FID on Fashion-MNIST of `two_stage_vae` against the same stage-1 VAE with a "
            "RealNVP prior, equal budget."
        ),
    ),
)

PLOTS = ()
