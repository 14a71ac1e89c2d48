"""GLF (paper 003): its claims and plots."""

from benchmarks.claims.base import (
    AtMost,
    Claim,
    Close,
    Cumulative,
    Number,
    Paper,
    Points,
    Strip,
    Verdict,
    not_measurable,
    not_measured,
)

__all__ = ["CLAIMS", "PAPER", "PLOTS"]

PAPER = Paper(
    "glf",
    "GLF",
    "GLF: Generative Latent Flow (Xiao, Yan & Amit, 2019)",
    "paper 003",
    ("glf", "glf_regularized", "vae_flow_prior"),
    pending=(
        "Training curves (loss and latent NLL against wall time) and sample grids: "
        "`glf_mnist.py` records each epoch's metrics (`history`) and writes the final "
        "weights' samples beside its JSON; the committed GLF results predate both.",
        "Regularized GLF and VAE+flow prior against GLF over training (Figures 3 and 4).",
    ),
)

_GLF_FID = (
    "FID of 10,000 samples against the 10,000 MNIST test images with the standard TF "
    "Inception (2015-12-05 graph, `tfflows.metrics.frechet_inception_distance`)"
)

_GLF_REFERENCE = (
    _GLF_FID + "; mean ± sample standard deviation over 10 sample draws of one trained model "
    "(sample seeds seed + 0, 1000, ..., 9000: Table 1's 10 trials), drawn as the authors' "
    "`generate_sample.py` draws (each batch of 500 normalised by its own statistics, every "
    "image min-max stretched: the `reference` protocol)"
)

_GLF_DATA = (
    "MNIST: trained on all 60,000 training images (as the paper; recorded before the "
    "validation split existed), FID against the 10,000 test images"
)

_GLF_BUDGET = (
    "B.1's schedule: 100 epochs of batch 256, Adam 1e-3 (the flow's with betas 0.8/0.9, "
    "coupled L2 2e-5), the rate halved after epoch 50; bfloat16 auto-encoder; inside a "
    "90-minute budget on 2 CPU cores"
)

_GLF_COMMAND = (
    "python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --minutes=90 "
    "--autoencoder_dtype=mixed_bfloat16 --protocols=standard,reference --seed SEED "
    "--output=glf.json; scored again on 10 draws with --weights glf_final.weights.h5 "
    "--protocols=reference --fid_draws 10"
)

_GLF_FREIA = "glf_mnist_glf-freia_90min_seed0.json"

_GLF_SEED0 = "glf_mnist_glf_90min_seed0.json"

_GLF_SEED0_DRAWS = "glf_mnist_glf_90min_seed0_draws.json"

_GLF_SEED0_REPEAT = "glf_mnist_glf_90min_seed0_repeat.json"

_GLF_SEED1 = "glf_mnist_glf_90min_seed1.json"

_GLF_SEED2 = "glf_mnist_glf_90min_seed2.json"

_GLF_SEED3 = "glf_mnist_glf_90min_seed3.json"

_GLF_TWO_STAGE = "glf_mnist_glf-two-stage_50epochs_seed0.json"

_GLF_FASHION = "glf_fashion_mnist_glf-freia_100epochs_seed0.json"

_REFERENCE_DRAWS = (
    ("FrEIA flow, seed 0", _GLF_FREIA, "fid_draws/reference/values"),
    ("default flow, seed 0", _GLF_SEED0_DRAWS, "evaluations/0/fid_draws/reference/values"),
    ("default flow, seed 3", _GLF_SEED3, "fid_draws/reference/values"),
)

_GLF_RUNS = (
    ("seed 0", _GLF_SEED0),
    ("seed 0, another run", _GLF_SEED0_REPEAT),
    ("seed 1", _GLF_SEED1),
    ("seed 2", _GLF_SEED2),
    ("seed 3", _GLF_SEED3),
    ("FrEIA flow, seed 0", _GLF_FREIA),
)

_MINUTES = 1 / 60


CLAIMS = (
    # GLF (paper 003).
    Claim(
        id="glf-mnist-fid-freia",
        paper="glf",
        short="MNIST FID (Table 1), the authors' flow",
        statement=(
            "Table 1: GLF's FID on MNIST is 8.2 ± 0.1, the mean and standard deviation of 10 "
            "trials, each the FID of 10k generated against 10k real images, after B.1's 100 "
            "epochs."
        ),
        paper_number="8.2 ± 0.1",
        ours=(
            Number(
                _GLF_FREIA,
                "fid_draws/reference/mean",
                std="fid_draws/reference/std",
                label="FrEIA flow, seed 0",
            ),
        ),
        measure=_GLF_REFERENCE + ".",
        data=_GLF_DATA,
        budget=_GLF_BUDGET + "; the 100 epochs took 55.3 minutes",
        command=(
            "python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --minutes=90 "
            "--autoencoder_dtype=mixed_bfloat16 --flow_permute_every block "
            "--flow_scale_activation atan --flow_affine_direction inverse "
            "--protocols=reference --fid_draws 10 --seed 0 --output=glf_freia.json"
        ),
        verdict=AtMost(8.3, "the paper's mean plus its standard deviation"),
        notes=(
            "The latent flow as the authors' code builds it with FrEIA (one permutation per "
            "block of two couplings, atan-clamped scales, `z exp(s) + t` from latent to noise). "
            "One training run; the spread between training runs of the default flow (next "
            "claim) is as large as the margin. The run's CPU was a Sapphire-Rapids-class Xeon "
            "(AVX-512, AMX) by its notes; the file records only TensorFlow and the core count."
        ),
    ),
    Claim(
        id="glf-mnist-fid-default",
        paper="glf",
        short="MNIST FID (Table 1), the default flow",
        statement=(
            "Table 1: GLF's FID on MNIST is 8.2 ± 0.1 (as above), with the flow of Figure 1b: "
            "a permutation after each coupling."
        ),
        paper_number="8.2 ± 0.1",
        ours=(
            Number(
                _GLF_SEED0_DRAWS,
                "evaluations/0/fid_draws/reference/mean",
                std="evaluations/0/fid_draws/reference/std",
                label="seed 0",
            ),
            Number(
                _GLF_SEED3,
                "fid_draws/reference/mean",
                std="fid_draws/reference/std",
                label="seed 3",
            ),
        ),
        measure=_GLF_REFERENCE + ". Two training runs; the verdict takes the mean of the two.",
        data=_GLF_DATA,
        budget=_GLF_BUDGET + "; the 100 epochs took 63.3 (seed 0) and 51.1 (seed 3) minutes",
        command=_GLF_COMMAND,
        verdict=AtMost(8.3, "the paper's mean plus its standard deviation"),
        notes=(
            "The library's default flow (tanh-bounded scales). Runs of one seed are not bitwise "
            "reproducible on multi-threaded CPUs: seed 0 trained twice scored 8.32 and 8.58 "
            "under the standard protocol (next claim)."
        ),
    ),
    Claim(
        id="glf-mnist-fid-standard",
        paper="glf",
        short="MNIST FID (Table 1), the library's sampling",
        statement=(
            "Table 1: GLF's FID on MNIST is 8.2 ± 0.1 (as above), here with samples as "
            "`model.sample` and the exported `sample` signature draw them."
        ),
        paper_number="8.2 ± 0.1",
        ours=(
            Number(_GLF_SEED0, "fid", label="seed 0"),
            Number(_GLF_SEED0_REPEAT, "fid", label="seed 0, another run"),
            Number(_GLF_SEED1, "fid", label="seed 1"),
            Number(_GLF_SEED2, "fid", label="seed 2"),
        ),
        measure=(
            _GLF_FID + "; one draw per run (sample seed = training seed), the batch norms' "
            "moving averages (the `standard` protocol). Four training runs; the verdict takes "
            "their mean."
        ),
        data=_GLF_DATA,
        budget=_GLF_BUDGET + "; the 100 epochs took 63-90 minutes",
        command=_GLF_COMMAND,
        verdict=AtMost(8.3, "the paper's mean plus its standard deviation"),
        notes=(
            "The authors' sampling (batch statistics and a min-max stretch) scores the same "
            "weights 0.1-0.4 lower: seed 1's final weights score 8.34 standard, 8.30 with batch "
            "statistics and 8.23 reference (`glf_mnist_glf_90min_seed1_protocols.json`)."
        ),
    ),
    Claim(
        id="glf-fashion-fid",
        paper="glf",
        short="Fashion-MNIST FID (Table 1)",
        statement="Table 1: GLF's FID on Fashion-MNIST is 21.3 ± 0.2 (10 trials, 10k vs 10k).",
        paper_number="21.3 ± 0.2",
        ours=(
            Number(
                _GLF_FASHION,
                "fid_draws/reference/mean",
                std="fid_draws/reference/std",
                label="FrEIA flow, seed 0",
            ),
        ),
        measure=(
            "FID of 10,000 samples against the 10,000 Fashion-MNIST test images with the "
            "standard TF Inception; mean ± sample standard deviation over 5 sample draws of one "
            "trained model (sample seeds 0, 1000, ..., 4000), drawn by the `reference` protocol "
            "as above."
        ),
        data=(
            "Fashion-MNIST: trained on the first 55,000 training images (the last 5,000 are "
            "the validation split), FID against the 10,000 test images"
        ),
        budget=(
            _GLF_BUDGET + "; the 100 epochs took 72.7 minutes, part of the time sharing "
            "the cores with other work"
        ),
        command=(
            "python -m benchmarks.glf_mnist --data_dir=/path/to/fashion "
            "--dataset=fashion_mnist --autoencoder_dtype=mixed_bfloat16 --flow_permute_every "
            "block --flow_scale_activation atan --flow_affine_direction inverse "
            "--protocols=reference --fid_draws 5 --minutes=90 --output=glf_fashion.json"
        ),
        verdict=AtMost(21.5, "the paper's mean plus its standard deviation"),
        notes=(
            "The MNIST reference run's settings (the authors' FrEIA flow layout), unchanged. "
            "One training run and 5 draws where the paper has 10 trials."
        ),
    ),
    Claim(
        id="glf-vs-vae-flow-prior",
        paper="glf",
        short="GLF beats VAE+flow prior (Table 1)",
        statement=(
            "Table 1 and section 4.2: GLF greatly outperforms the VAE with a flow prior; on "
            "MNIST 8.2 ± 0.1 against 28.3 ± 0.2 (B.2: 200 epochs for the VAE variants)."
        ),
        paper_number="28.3 ± 0.2 vs 8.2 ± 0.1",
        verdict=not_measured(
            "`python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --model=vae_flow_prior "
            "--epochs=200 --protocols=reference --fid_draws 10` (B.2's schedule, about 2 hours "
            "here), against the GLF claims above."
        ),
    ),
    Claim(
        id="glf-vae-baseline",
        paper="glf",
        short="VAE baseline FID (Table 1)",
        statement="Table 1: the VAE with the same auto-encoder scores 28.2 ± 0.3 on MNIST.",
        paper_number="28.2 ± 0.3",
        verdict=not_measured(
            "`python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --model=vae --epochs=200 "
            "--protocols=reference --fid_draws 10`."
        ),
    ),
    Claim(
        id="glf-converges-faster",
        paper="glf",
        short="GLF converges faster than VAE+flow prior (Figure 3a)",
        statement=(
            "Section 4.2.1, Figure 3a (CIFAR-10): GLF converges faster and to a lower FID than "
            "VAEs with a flow prior for every decoder variance; the gap closes as beta grows."
        ),
        paper_number="- (curves)",
        verdict=not_measured(
            "FID snapshots over training (`glf_mnist.py --snapshot_minutes`) of `glf` and "
            "`vae_flow_prior` at several `beta`, on MNIST here (the paper's figure is CIFAR-10)."
        ),
    ),
    Claim(
        id="glf-stop-gradient",
        paper="glf",
        short="Without the stop-gradient the latents degenerate (Figure 4)",
        statement=(
            "Section 3.3 and appendix D, Figure 4 (CIFAR-10): without the stop-gradient "
            "(regularized GLF) the NLL loss drives the latents towards 0: for beta = 1 and 10 "
            "the reconstruction diverges, for larger beta FID oscillates strongly."
        ),
        paper_number="- (curves)",
        verdict=not_measured(
            "`python -m benchmarks.glf_mnist --data_dir=/path/to/mnist --model=glf_regularized "
            "--snapshot_minutes=10` (FID snapshots; `history` has the latent NLL per epoch), "
            "against `--model=glf`."
        ),
    ),
    Claim(
        id="glf-two-stage",
        paper="glf",
        short="Two-stage training performs similarly",
        statement=(
            "Section 3.3: GLF can also be trained in two stages (the auto-encoder, then the "
            "flow); empirically that leads to similar performance."
        ),
        paper_number="-",
        ours=(
            Number(
                _GLF_TWO_STAGE,
                "variants/separate_bn/fid_draws/mean",
                std="variants/separate_bn/fid_draws/std",
                label="flow refitted on the final latents",
            ),
            Number(
                _GLF_TWO_STAGE,
                "variants/joint/fid_draws/values",
                reduce="mean",
                label="flow trained jointly",
            ),
        ),
        measure=(
            _GLF_FID + "; the reference protocol, mean of the same three sample draws (seeds "
            "0, 1000, 2000) for both flows on one auto-encoder (seed 0's 100 epochs). The "
            "refitted flow: the default conditioner trained for 50 epochs (rate halved after "
            "25) on the final encoder's latents."
        ),
        data=_GLF_DATA,
        budget="the auto-encoder of seed 0's 100 epochs; the refitted flow 50 epochs",
        command=(
            "python -m benchmarks.glf_latent_flow --data_dir=/path/to/mnist "
            "--weights=glf_final.weights.h5 --autoencoder_dtype=mixed_bfloat16 "
            "--variants=separate_bn --epochs=50 --lr_halve_after 25 --num_fid_samples=10000 "
            "--protocol=reference --fid_draws=3"
        ),
        verdict=Close(0.1, why="the paper's Table 1 error bar as 'similar'"),
        notes="One auto-encoder, one refit: the two-stage flow samples worse on every draw.",
    ),
    Claim(
        id="glf-100-epochs",
        paper="glf",
        short="100 epochs suffice on MNIST (Table 2)",
        statement=(
            "Table 2 and section 4.3: GLF reaches its Table 1 FID in 100 epochs on MNIST, "
            "where the two-stage VAE needs 400 + 800 and GLANN 500 + 50."
        ),
        paper_number="100 epochs",
        ours=(
            Number(_GLF_FREIA, "epochs_trained", label="epochs", digits=0),
            Number(_GLF_FREIA, "train_seconds", label="minutes", scale=1 / 60, digits=1),
        ),
        measure="Epochs and minutes of training of the run behind the first claim.",
        data=_GLF_DATA,
        budget=_GLF_BUDGET,
        command="as the first GLF claim",
        verdict=Verdict(
            "holds",
            "The Table 1 figure (first claim) was reached with B.1's 100 epochs, inside the "
            "90-minute budget on 2 CPU cores",
        ),
    ),
    Claim(
        id="glf-epoch-time",
        paper="glf",
        short="10 s per MNIST epoch (Table 5)",
        statement="Appendix E, Table 5: an MNIST epoch of GLF takes 10 s on a GTX 1080.",
        paper_number="10 s",
        ours=(
            Number(
                _GLF_FREIA,
                "epoch_seconds",
                reduce="median",
                label="median epoch",
                digits=1,
                unit=" s",
            ),
        ),
        measure="Median wall-clock seconds of an epoch (235 steps of 256) over the 100 epochs.",
        data=_GLF_DATA,
        budget=_GLF_BUDGET,
        command="as the first GLF claim",
        verdict=not_measurable(
            "The paper times a GPU; these machines have 2 CPU cores and no GPU, so only our "
            "CPU time is shown"
        ),
    ),
)

PLOTS = (
    Strip(
        name="glf_mnist_fid_draws.png",
        paper="glf",
        title="GLF on MNIST: FID of 10 sample draws per trained model",
        ylabel="FID, 10k samples vs 10k test images",
        columns=tuple(Number(file, key, label=label) for label, file, key in _REFERENCE_DRAWS),
        band=(8.2, 0.1, "paper, Table 1: 8.2 ± 0.1"),
        caption=(
            "Each point one draw of 10,000 samples (the reference protocol) of one trained "
            "model, the line their mean; the band is the paper's mean ± std over its 10 trials."
        ),
    ),
    Points(
        name="glf_mnist_fid_vs_time.png",
        paper="glf",
        title="GLF on MNIST: FID against training time (2 CPU cores)",
        xlabel="training minutes",
        ylabel="FID, 10k samples vs 10k test images",
        series=(
            (
                "seed 0 (another run), standard",
                (
                    (30.0, Number(_GLF_SEED0_REPEAT, "snapshots/0/fid")),
                    (
                        Number(_GLF_SEED0_REPEAT, "train_seconds", scale=_MINUTES),
                        Number(_GLF_SEED0_REPEAT, "fid"),
                    ),
                ),
            ),
            (
                "seed 1, standard",
                (
                    (30.0, Number(_GLF_SEED1, "snapshots/0/fid")),
                    (
                        Number(_GLF_SEED1, "train_seconds", scale=_MINUTES),
                        Number(_GLF_SEED1, "fid"),
                    ),
                ),
            ),
            (
                "seed 0, standard",
                ((Number(_GLF_SEED0, "train_seconds", scale=_MINUTES), Number(_GLF_SEED0, "fid")),),
            ),
            (
                "seed 2, standard",
                ((Number(_GLF_SEED2, "train_seconds", scale=_MINUTES), Number(_GLF_SEED2, "fid")),),
            ),
            (
                "seed 0, reference, mean of 10 draws",
                (
                    (
                        Number(_GLF_SEED0, "train_seconds", scale=_MINUTES),
                        Number(_GLF_SEED0_DRAWS, "evaluations/0/fid_draws/reference/mean"),
                    ),
                ),
            ),
            (
                "seed 3, reference, mean of 10 draws",
                (
                    (
                        Number(_GLF_SEED3, "train_seconds", scale=_MINUTES),
                        Number(_GLF_SEED3, "fid_draws/reference/mean"),
                    ),
                ),
            ),
            (
                "FrEIA flow, reference, mean of 10 draws",
                (
                    (
                        Number(_GLF_FREIA, "train_seconds", scale=_MINUTES),
                        Number(_GLF_FREIA, "fid_draws/reference/mean"),
                    ),
                ),
            ),
        ),
        band=(8.2, 0.1, "paper, Table 1 (GPU, 100 epochs)"),
        caption=(
            "Snapshots after 30 minutes and the end of B.1's 100 epochs; `standard` samples as "
            "`model.sample` does (one draw), `reference` as the authors' code does."
        ),
    ),
    Cumulative(
        name="glf_mnist_epochs_vs_time.png",
        paper="glf",
        title="GLF on MNIST: epochs against wall time (2 CPU cores, bf16 auto-encoder)",
        series=tuple(Number(file, "epoch_seconds", label=label) for label, file in _GLF_RUNS),
        caption=(
            "Each run's epochs against its cumulative training time; the machines of one kind "
            "differed by up to 1.8x between runs."
        ),
    ),
)
