"""The papers' claims and which result files measure them: the input of `benchmarks.report`.

One `Claim` per claim of a paper: the paper's statement and number, the
`Number`s of ours (a key of a JSON file in `benchmarks/results/`), what
those numbers are, the data and budget, and a verdict: a rule computed from
the numbers (`AtMost`, `Lower`, `Higher`, `AtLeast`, `Close`, and `AllOf`
of several) or an explicit `Verdict` with its reason. A claim nothing
measures yet has no numbers and the verdict `not_measured(how)`, saying what
would measure it. `PLOTS` are drawn from the numbers (`Strip`, `Bars`,
`Points`, `Cumulative`) or are PNGs a benchmark wrote (`Figure`).

Adding a result: write the JSON (the benchmarks' `--output`/`--results_dir`),
then cite it in a claim, e.g.

    Claim(
        id="fvae-sharper-than-vae",
        ...,
        ours=(
            Number("fvae_mnist_fvae_30min.json", "result/fid", label="f-VAE"),
            Number("fvae_mnist_vae_30min.json", "result/fid", label="VAE"),
        ),
        verdict=Lower(),
    )

and run `python -m benchmarks.report`. Keys are paths of `/`-separated parts:
dict keys, list indices, or `[name=value,...]` selecting the list item whose
fields match (`results/[model=glow]/fid`).
"""

from benchmarks.claims import fvae, glf, glow, vae_flow_decoder, vflow
from benchmarks.claims.base import (
    IMAGES_PER_SECOND,
    VERDICTS,
    AllOf,
    AtLeast,
    AtMost,
    Bars,
    Claim,
    Close,
    Cumulative,
    Figure,
    Higher,
    Lower,
    Number,
    Paper,
    Points,
    Strip,
    Verdict,
    not_measurable,
    not_measured,
)

_PAPERS = (glf, fvae, vae_flow_decoder, vflow, glow)  # the order of the report

PAPERS = tuple(module.PAPER for module in _PAPERS)
CLAIMS = tuple(claim for module in _PAPERS for claim in module.CLAIMS)
PLOTS = tuple(plot for module in _PAPERS for plot in module.PLOTS)

HEADLINES = {
    "glow": "glow-faster-than-tfp",
    "vae": "fvae-sharper-than-vae",
    "glf": "glf-mnist-fid-freia",
    "glf_regularized": "glf-stop-gradient",
    "vae_flow_prior": "glf-vs-vae-flow-prior",
    "vae_flow_decoder": "vfd-competitive-with-glow",
    "two_stage_vae": "vfd-flow-prior-vs-two-stage",
    "vflow": "vflow-fewer-parameters",
    "fvae": "fvae-sharper-than-vae",
}


__all__ = [
    "AllOf",
    "AtLeast",
    "AtMost",
    "Bars",
    "CLAIMS",
    "Claim",
    "Close",
    "Cumulative",
    "Figure",
    "HEADLINES",
    "Higher",
    "IMAGES_PER_SECOND",
    "Lower",
    "Number",
    "PAPERS",
    "PLOTS",
    "Paper",
    "Points",
    "Strip",
    "VERDICTS",
    "Verdict",
    "not_measurable",
    "not_measured",
]
