"""The Glow baseline against TFP's tfb.Glow: its claims and plots."""

from benchmarks.claims.base import (
    IMAGES_PER_SECOND,
    Bars,
    Claim,
    Higher,
    Number,
    Paper,
    Strip,
    Verdict,
    not_measured,
)

__all__ = ["CLAIMS", "PAPER", "PLOTS"]

PAPER = Paper(
    "glow",
    "Glow",
    "Glow baseline against TFP's tfb.Glow",
    "the Glow layers of `tfflows.layers`; no paper file",
    ("glow",),
)

_GLOW_ORIENTATION = "glow_mnist_glow-orientation_600steps.json"

_GLOW_TFP = "glow_uniform-32x32x3_tfflows-vs-tfb-glow_throughput.json"


CLAIMS = (
    # Glow baseline against tfb.Glow.
    Claim(
        id="glow-faster-than-tfp",
        paper="glow",
        short="Trains faster than tfb.Glow at equal architecture",
        statement=(
            "tfflows' Glow trains at least as fast as TFP's `tfb.Glow` with the same "
            "architecture (3 levels x 8 steps, affine couplings of width 128, learned priors)."
        ),
        paper_number="-",
        ours=(
            Number(_GLOW_TFP, "ours_best_images_per_second", **IMAGES_PER_SECOND, label="tfflows"),
            Number(_GLOW_TFP, "tfp_best_images_per_second", **IMAGES_PER_SECOND, label="tfb.Glow"),
        ),
        measure=(
            "Training images/s (mean NLL of a batch of 32 uniform 32x32x3 inputs, gradients, "
            "Adam), each model's better mode of graph and XLA, median of 5 interleaved repeats; "
            "1,614,924 against 1,590,060 parameters."
        ),
        data="uniform random inputs (throughput does not depend on the pixels)",
        budget="5 interleaved repeats after tracing and warm-up",
        verdict=Higher(),
        notes="A quiet machine; on a loaded one the ratio stayed 2.1-2.3.",
    ),
    Claim(
        id="glow-bpd-vs-tfp",
        paper="glow",
        short="Equal bits/dim to tfb.Glow at equal budget",
        statement="At equal architecture and training time, the same bits/dim as `tfb.Glow`.",
        paper_number="-",
        verdict=not_measured(
            "`python -m benchmarks.glow_vs_tfp --data_dir=/path/to/mnist --minutes=15`: both "
            "at 2 levels x 8 steps x 128 on MNIST, batch 64, Adam 1e-3, trained in turns until "
            "each has 15 minutes, then exact bits/dim on the 10,000 test images."
        ),
    ),
    Claim(
        id="glow-sampling-orientation",
        paper="glow",
        short="No non-finite samples, at no bits/dim cost",
        statement=(
            "Sampling through a contracting scale (multiply by Glow's sigmoid(h + 2), as "
            "`tfb.Glow` orients it) and priors capped at e^5 gives no non-finite samples, "
            "where Glow's code's orientation (divide by it, unbounded priors) gives many, "
            "without a worse bits/dim."
        ),
        paper_number="-",
        ours=tuple(
            Number(
                _GLOW_ORIENTATION,
                f"runs/[variant={variant},seed={seed}]/{key}",
                label=f"{name} seed {seed} {what}",
                digits=digits,
            )
            for variant, name in (("tfflows", "tfflows"), ("glow_code", "Glow's code"))
            for key, what, digits in (
                ("nonfinite_samples/1.0", "non-finite", 0),
                ("test_bits_per_dim", "bits/dim", 3),
            )
            for seed in (0, 1, 2)
        ),
        measure=(
            "Images with a NaN or infinite pixel among 1,000 samples at T = 1; exact "
            "(uniformly dequantized) bits/dim over the 784 pixels of the 10,000 test images."
        ),
        data="MNIST 28x28: the 55,000 `train` images, the 10,000 test images",
        budget="600 steps of batch 64, Adam 5e-4, the small Glow preset (2 levels, 4 steps)",
        verdict=Verdict(
            "holds",
            "No non-finite sample on any seed (at T = 0.7 neither), against tens to hundreds "
            "per 1,000 with Glow's orientation at T = 1; bits/dim lower on every seed",
        ),
    ),
)

PLOTS = (
    Bars(
        name="glow_mnist_sampling_orientation.png",
        paper="glow",
        title="Glow's sampling orientation against tfflows' (600 steps on MNIST)",
        panels=(
            (
                "test bits/dim",
                tuple(
                    Number(
                        _GLOW_ORIENTATION,
                        f"runs/[variant={variant},seed={seed}]/test_bits_per_dim",
                        label=f"{name} {seed}",
                    )
                    for variant, name in (("glow_code", "Glow"), ("tfflows", "ours"))
                    for seed in (0, 1, 2)
                ),
            ),
            (
                "non-finite of 1,000 samples, T = 1",
                tuple(
                    Number(
                        _GLOW_ORIENTATION,
                        f"runs/[variant={variant},seed={seed}]/nonfinite_samples/1.0",
                        label=f"{name} {seed}",
                    )
                    for variant, name in (("glow_code", "Glow"), ("tfflows", "ours"))
                    for seed in (0, 1, 2)
                ),
            ),
        ),
        caption="Seeds 0, 1 and 2 of each orientation.",
    ),
    Strip(
        name="glow_throughput_vs_tfp.png",
        paper="glow",
        title="Training throughput: tfflows' Glow against tfb.Glow (32x32x3, batch 32)",
        ylabel="training images/s",
        columns=tuple(
            Number(_GLOW_TFP, f"rows/[model={model},xla={xla}]/images_per_second", label=label)
            for model, xla, label in (
                ("tfflows", "False", "tfflows"),
                ("tfflows", "True", "tfflows XLA"),
                ("tfb.Glow", "False", "tfb.Glow"),
                ("tfb.Glow", "True", "tfb.Glow XLA"),
            )
        ),
        caption="Each point one timed repeat, the line their median; the four configurations "
        "interleaved.",
        centre="median",
    ),
)
