"""GLF's latent flow alone: conditioner variants trained on the latents of a saved GLF.

With GLF's stop-gradient the flow never changes the auto-encoder, so flows can
be compared on fixed latents: encode the training and test images once with a
trained GLF's encoder (`--weights`, e.g. a `glf_mnist.py` snapshot), train
each variant of `tfflows.layers.RealNVP` for `--epochs` with GLF's flow
optimizer (Adam 1e-3, betas 0.8/0.9, epsilon 1e-6, coupled L2 2e-5; batch
256; the rate halved after each of `--lr_halve_after` epochs), and report the
test latents' NLL (nats, lower is better). The variant `joint` is the file's
own flow, trained jointly with the auto-encoder, and is not trained again.
With `--num_fid_samples`, also the FID of `G(F(eps))` against the test
images: `--fid_draws` draws per variant under `--protocol` (`glf_mnist.py`'s
protocols and draw seeds), so every variant is scored on the same seeds.

Usage:
  python -m benchmarks.glf_latent_flow --data_dir=/path/to/mnist \\
      --weights=glf_30min.weights.h5 --variants=shared,separate,separate_bn
  python -m benchmarks.glf_latent_flow --data_dir=/path/to/mnist \\
      --weights=glf_final.weights.h5 --autoencoder_dtype=mixed_bfloat16 \\
      --variants=joint,separate_bn,separate_bn_block --epochs=100 --lr_halve_after 50 \\
      --num_fid_samples=10000 --protocol=reference --fid_draws=3
"""

import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import glf_evaluation  # noqa: E402
from benchmarks.environment import describe  # noqa: E402
from tfflows import data, layers, models  # noqa: E402
from tfflows.layers import RealNVP  # noqa: E402
from tfflows.metrics import feature_statistics  # noqa: E402
from tfflows.optimizers import SplitAdam  # noqa: E402

JOINT = "joint"  # the saved GLF's own flow, as trained with its auto-encoder
VARIANTS = {
    "shared": dict(separate_networks=False, batch_norm=False),
    "separate": dict(separate_networks=True, batch_norm=False),
    "separate_bn": dict(separate_networks=True, batch_norm=True),
    # The authors' FrEIA layout: one permutation per block of two couplings.
    "separate_bn_block": dict(separate_networks=True, batch_norm=True, permute_every="block"),
    # The whole FrEIA flow of the authors' code: that layout, FrEIA's atan soft clamp
    # at 2, and section 3.1's couplings `z_b exp(s) + t` from latent to noise.
    "freia": dict(
        separate_networks=True,
        batch_norm=True,
        permute_every="block",
        scale_activation="atan",
        affine_direction="inverse",
    ),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", required=True, help="directory of the MNIST IDX .gz files")
    p.add_argument("--weights", required=True, help="a GLF's .weights.h5 (MNIST, nz=20)")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"of {JOINT}, {list(VARIANTS)}")
    p.add_argument("--epochs", type=int, default=23, help="23: what 30 minutes train here")
    p.add_argument(
        "--lr_halve_after", type=int, nargs="*", default=(), help="epochs after which to halve"
    )
    p.add_argument(
        "--autoencoder_dtype", default=None, help="the saved GLF's (glf_mnist.py's flag)"
    )
    p.add_argument(
        "--num_images", type=int, default=None, help="first N images of each split (all)"
    )
    glf_evaluation.add_fid_arguments(p, num_fid_samples=0)
    p.add_argument("--protocol", choices=sorted(glf_evaluation.PROTOCOLS), default="standard")
    p.add_argument(
        "--fid_cache", default=None, help=".npz caching the test images' Inception statistics"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None)
    return p.parse_args(argv)


def load_glf(weights, autoencoder_dtype=None):
    """A default MNIST GLF with `weights`; the `joint` variant uses its flow.

    The file's flow may have another conditioner than today's default: its
    mismatch is ignored (the result's `test_reconstruction_mse` shows that the
    auto-encoder did load). Weights saved before the decoder's last layer became
    `ShiftedConv2DTranspose` store it as `conv2d_transpose_1`.
    """
    glf = models.get("glf", (28, 28, 1), autoencoder_dtype=autoencoder_dtype)
    try:
        glf.load_weights(weights)
    except ValueError:
        with h5py.File(weights, "r") as f:
            old = f.get("decoder/layers/conv2d_transpose_1/vars")
            if old is not None:
                last = glf.decoder.layers[-1]
                last.kernel.assign(old["0"][()])
                last.bias.assign(old["1"][()])
    return glf


def latents(glf, data_dir, split, count=None):
    images = data.load("mnist", split, data_dir=data_dir, batch_size=1000, prefetch=False)
    if count is not None:
        images = images.take(math.ceil(count / 1000))
    return np.concatenate([glf.encode(batch).numpy() for batch in images])[:count]


class FlowSampler:
    """`G(F(T eps))` from a GLF's decoder `G` and another flow `F`: a model to `samples_uint8`."""

    def __init__(self, glf, flow):
        self.glf, self.flow = glf, flow

    def sample(self, num_samples, temperature=1.0, seed=None, batch_statistics=False):
        def draw():
            return self.glf.decode(self.flow.sample(num_samples, temperature, seed=seed))

        if not batch_statistics:
            return draw()
        with layers.batch_statistics([self.flow, self.glf.decoder]):
            return draw()


def flow_nll(flow, latents):
    return -float(tf.reduce_mean(flow.log_prob(latents)))


def train_flow(flow, train, test, epochs, seed, halve_after=()):
    optimizer = SplitAdam(
        1e-3, group_beta_1=0.8, group_beta_2=0.9, group_epsilon=1e-6, group_l2=2e-5
    )
    optimizer.set_group(flow.trainable_variables)  # every weight gets GLF's flow settings
    variables = flow.trainable_variables

    @tf.function
    def step(z):
        with tf.GradientTape() as tape:
            u, log_det = flow(z, training=True)
            loss = -tf.reduce_mean(flow.base_log_prob(u) + log_det)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    batches = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(train), seed=seed)
        .batch(256, drop_remainder=True)
    )
    history = []
    for epoch in range(epochs):
        rate = 1e-3 * 0.5 ** sum(epoch >= e for e in halve_after)
        optimizer.learning_rate = rate
        losses = [float(step(z)) for z in batches]
        history.append(
            {
                "learning_rate": rate,
                "train_nll": float(np.mean(losses)),
                "test_nll": flow_nll(flow, test),
            }
        )
    return history


def main(argv=None):
    args = parse_args(argv)
    glf = load_glf(args.weights, args.autoencoder_dtype)
    train = latents(glf, args.data_dir, "train", args.num_images)
    test = latents(glf, args.data_dir, "test", args.num_images)
    real = None
    rows = {}
    for name in args.variants.split(","):
        keras.utils.set_random_seed(args.seed)
        if name == JOINT:
            flow, history, seconds = glf.flow, [], 0.0
            config = {"trained": "jointly, with the auto-encoder"}
            final = {"train_nll": flow_nll(glf.flow, train), "test_nll": flow_nll(glf.flow, test)}
        else:
            config = VARIANTS[name]
            flow = RealNVP(glf.latent_dim, glf.flow_blocks, glf.flow_hidden_units, **config)
            start = time.perf_counter()
            history = train_flow(flow, train, test, args.epochs, args.seed, args.lr_halve_after)
            seconds, final = time.perf_counter() - start, history[-1]
        row = {
            **config,
            "parameters": int(flow.count_params()),
            "train_seconds": round(seconds, 1),
            "final": final,
            "history": history,
        }
        if args.num_fid_samples:
            if real is None:
                real = feature_statistics(
                    glf_evaluation.test_arrays(args.data_dir, args.num_fid_real),
                    cache_path=args.fid_cache,
                    batch_size=args.fid_batch_size,
                    verbose=False,
                )
            seeds = glf_evaluation.draw_seeds(args.seed, args.fid_draws)
            draws = glf_evaluation.fid_draws(
                FlowSampler(glf, flow), real, args.protocol, seeds, args
            )
            row["fid"], row["fid_draws"] = draws["values"][0], draws
        rows[name] = row
        print(name, json.dumps(row["final"]), row.get("fid_draws", ""), flush=True)
    result = {
        "weights": os.path.basename(args.weights),
        "autoencoder_dtype": args.autoencoder_dtype,
        "test_reconstruction_mse": glf_evaluation.reconstruction_mse(
            glf, glf_evaluation.test_arrays(args.data_dir, args.num_images)
        ),
        "epochs": args.epochs,
        "lr_halve_after": list(args.lr_halve_after),
        "num_fid_samples": args.num_fid_samples,
        "protocol": args.protocol,
        "variants": rows,
        "seed": args.seed,
        "environment": describe(None if argv is None else ["benchmarks/glf_latent_flow.py", *argv]),
    }
    if args.output:
        with open(args.output, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
