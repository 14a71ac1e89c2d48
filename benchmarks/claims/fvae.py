"""f-VAE (paper 000): its claims and plots."""

from benchmarks.claims.base import (
    IMAGES_PER_SECOND,
    Bars,
    Claim,
    Higher,
    Lower,
    Number,
    Paper,
    Points,
    not_measurable,
)

__all__ = ["CLAIMS", "PAPER", "PLOTS"]

PAPER = Paper(
    "fvae",
    "f-VAE",
    "f-VAE: VAEs with conditional flows (Su & Wu, 2018)",
    "paper 000",
    ("fvae", "vae", "glow"),
    pending=(
        "Training curves (bits/dim and loss against wall time): `fvae_compare.py` records "
        "the final training loss only.",
        "Sample grids and FID at the temperatures of the paper's Figure 7 (0 to 1): the "
        "new `fvae_compare.py --results_dir` runs write a grid per model.",
    ),
)

_FVAE_DATA = (
    "MNIST: trained on all 60,000 training images (before the validation split existed), "
    "evaluated on the 10,000 test images"
)

_FVAE_BUDGET = (
    "30 minutes of training per model (wall clock from the first batch), batch 64, Adam 1e-3, "
    "about 400,000 parameters each; each model alone on 2 CPU cores"
)

_FVAE_COMMAND = (
    "python -m benchmarks.fvae_compare --data_dir=/path/to/mnist --dataset=mnist --minutes=30 "
    "--num_eval=10000 --num_fid_samples=10000 --models=MODEL (f-VAE: --extra_temperatures=0.8)"
)

_FVAE_NOTE = (
    "Measured with the library before its current defaults and before the validation split; "
    "the f-VAE comparison re-measures it with `fvae_compare.py --results_dir`, whose files "
    "replace these."
)

_FVAE = "fvae_mnist_fvae_30min_train60k.json"

_FVAE_GLOW = "fvae_mnist_glow_30min_train60k.json"

_FVAE_VAE = "fvae_mnist_vae_30min_train60k.json"


CLAIMS = (
    # f-VAE (paper 000).
    Claim(
        id="fvae-sharper-than-vae",
        paper="fvae",
        short="f-VAE samples sharper than the VAE's",
        statement=(
            "Abstract and Results (Figure 2): compared with VAEs, f-VAEs generate more vivid "
            "images; they have basically solved the blurring problem."
        ),
        paper_number="- (samples shown)",
        ours=(
            Number(_FVAE, "results/0/fid", label="f-VAE FID", digits=1),
            Number(_FVAE_VAE, "results/0/fid", label="VAE FID", digits=1),
        ),
        measure=(
            "FID of 10,000 samples at temperature 1 against the 10,000 MNIST test images "
            "(standard Inception); lower means samples closer to the data."
        ),
        data=_FVAE_DATA,
        budget=_FVAE_BUDGET,
        command=_FVAE_COMMAND,
        verdict=Lower(),
        notes=_FVAE_NOTE,
    ),
    Claim(
        id="fvae-better-than-glow",
        paper="fvae",
        short="f-VAE better than Glow at equal size and time",
        statement=(
            "Results (Figure 2): f-VAEs perform much better than Glow under the same complexity "
            "and the same training time; 'the same performance under smaller-size "
            "architecture' (abstract)."
        ),
        paper_number="- (samples shown)",
        ours=(
            Number(_FVAE, "results/0/fid", label="f-VAE FID", digits=1),
            Number(_FVAE_GLOW, "results/0/fid", label="Glow FID", digits=1),
            Number(_FVAE, "results/0/bits_per_dim", label="f-VAE bits/dim (ELBO)"),
            Number(_FVAE_GLOW, "results/0/bits_per_dim", label="Glow bits/dim (exact)"),
            Number(_FVAE, "results/0/parameters", label="f-VAE parameters", digits=0),
            Number(_FVAE_GLOW, "results/0/parameters", label="Glow parameters", digits=0),
        ),
        measure=(
            "FID as above (T = 1); bits/dim over the 784 pixels of the 10,000 test images: "
            "the ELBO (an upper bound) for the f-VAE, exact (uniformly dequantized) for Glow."
        ),
        data=_FVAE_DATA,
        budget=_FVAE_BUDGET,
        command=_FVAE_COMMAND,
        verdict=Lower(why="FID; Glow's likelihood is better, and 369 of its samples non-finite"),
        notes=_FVAE_NOTE,
    ),
    Claim(
        id="fvae-lighter-than-glow",
        paper="fvae",
        short="f-VAE lighter and faster than Glow",
        statement=(
            "Abstract and Conclusion: compared with Glow, f-VAE is more lightweight and "
            "converges faster; a tiny-computation version of Glow."
        ),
        paper_number="-",
        ours=(
            Number(
                _FVAE,
                "results/0/train_images_per_second",
                **IMAGES_PER_SECOND,
                label="f-VAE training",
            ),
            Number(
                _FVAE_GLOW,
                "results/0/train_images_per_second",
                **IMAGES_PER_SECOND,
                label="Glow training",
            ),
            Number(
                _FVAE,
                "results/0/sample_images_per_second",
                **IMAGES_PER_SECOND,
                label="f-VAE sampling",
            ),
            Number(
                _FVAE_GLOW,
                "results/0/sample_images_per_second",
                **IMAGES_PER_SECOND,
                label="Glow sampling",
            ),
        ),
        measure=(
            "Training images/s over the 30 minutes (batch 64) and sampling images/s (100 "
            "samples after a warm-up), at about the same parameter count."
        ),
        data=_FVAE_DATA,
        budget=_FVAE_BUDGET,
        command=_FVAE_COMMAND,
        verdict=Higher(why="training throughput; sampling is faster too"),
        notes=_FVAE_NOTE,
    ),
    Claim(
        id="fvae-celeba",
        paper="fvae",
        short="CelebA-HQ in hours on one GPU",
        statement=(
            "Experiments: 64x64 CelebA-HQ in about 7 hours (120 epochs) on one GTX 1060; "
            "128x128 in 1.5 days (150 epochs)."
        ),
        paper_number="7 h / 1.5 days",
        verdict=not_measurable(
            "No GPU and no CelebA-HQ here; the MNIST comparison above is the measurable analogue"
        ),
    ),
)

PLOTS = (
    Bars(
        name="fvae_mnist_30min.png",
        paper="fvae",
        title="f-VAE, Glow and the VAE after 30 minutes each on MNIST",
        panels=(
            (
                "FID (T = 1), 10k vs 10k",
                tuple(
                    Number(file, "results/0/fid", label=label)
                    for label, file in (("f-VAE", _FVAE), ("Glow", _FVAE_GLOW), ("VAE", _FVAE_VAE))
                ),
            ),
            (
                "bits/dim (ELBO; Glow exact)",
                tuple(
                    Number(file, "results/0/bits_per_dim", label=label)
                    for label, file in (("f-VAE", _FVAE), ("Glow", _FVAE_GLOW), ("VAE", _FVAE_VAE))
                ),
            ),
            (
                "training images/s",
                tuple(
                    Number(file, "results/0/train_images_per_second", label=label)
                    for label, file in (("f-VAE", _FVAE), ("Glow", _FVAE_GLOW), ("VAE", _FVAE_VAE))
                ),
            ),
        ),
        caption="About 400,000 parameters each; lower FID and bits/dim are better.",
    ),
    Points(
        name="fvae_mnist_temperature.png",
        paper="fvae",
        title="f-VAE on MNIST: FID against sampling temperature (30 minutes)",
        xlabel="temperature",
        ylabel="FID, 10k samples vs 10k test images",
        series=(
            (
                "f-VAE",
                (
                    (0.8, Number(_FVAE, "results/0/fid_at_temperature/0.8")),
                    (1.0, Number(_FVAE, "results/0/fid")),
                ),
            ),
        ),
        caption="The temperatures measured so far; the paper's Figure 7 sweeps 0 to 1.",
    ),
)
