"""GLF's latent flow alone: conditioner variants trained on the latents of a saved GLF.

With GLF's stop-gradient the flow never changes the auto-encoder, so flows can
be compared on fixed latents: encode the training and test images once with a
trained GLF's encoder (`--weights`, e.g. a `glf_mnist.py` snapshot), train
each variant of `tfflows.layers.RealNVP` for `--epochs` with GLF's flow
optimizer (Adam 1e-3, betas 0.8/0.9, epsilon 1e-6, coupled L2 2e-5; batch
256), and report the test latents' NLL (nats, lower is better). With
`--num_fid_samples`, also the FID of `G(F(eps))` against the test images.

Usage:
  python -m benchmarks.glf_latent_flow --data_dir=/path/to/mnist \\
      --weights=glf_30min.weights.h5 --variants=shared,separate,separate_bn
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfflows import data, models  # noqa: E402
from tfflows.layers import RealNVP  # noqa: E402
from tfflows.metrics import frechet_inception_distance  # noqa: E402
from tfflows.optimizers import SplitAdam  # noqa: E402
from tfflows.visualization import to_uint8  # noqa: E402

VARIANTS = {
    "shared": dict(separate_networks=False, batch_norm=False),
    "separate": dict(separate_networks=True, batch_norm=False),
    "separate_bn": dict(separate_networks=True, batch_norm=True),
    # The authors' FrEIA layout: one permutation per block of two couplings.
    "separate_bn_block": dict(separate_networks=True, batch_norm=True, permute_every="block"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data_dir", required=True, help="directory of the MNIST IDX .gz files")
    p.add_argument("--weights", required=True, help="a GLF's .weights.h5 (MNIST, nz=20)")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--epochs", type=int, default=23, help="23: what 30 minutes train here")
    p.add_argument("--num_fid_samples", type=int, default=0)
    p.add_argument(
        "--fid_cache", default=None, help=".npz caching the test images' Inception statistics"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None)
    return p.parse_args(argv)


def load_glf(weights):
    """A default MNIST GLF with `weights`; only the encoder and decoder are used.

    The file's flow may have another conditioner than today's default: its
    mismatch is ignored (the result's `test_reconstruction_mse` shows that the
    auto-encoder did load). Weights saved before the decoder's last layer became
    `ShiftedConv2DTranspose` (the session-2 snapshots) store it as `conv2d_transpose_1`.
    """
    glf = models.get("glf", (28, 28, 1))
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


def reconstruction_mse(glf, data_dir):
    images = data.load("mnist", "test", data_dir=data_dir, batch_size=1000, prefetch=False)
    errors = [
        np.mean(np.square(glf.decode(glf.encode(x)).numpy() - x.numpy() / 255.0)) for x in images
    ]
    return float(np.mean(errors))


def latents(glf, data_dir, split):
    images = data.load("mnist", split, data_dir=data_dir, batch_size=1000, prefetch=False)
    return np.concatenate([glf.encode(batch).numpy() for batch in images])


def train_flow(flow, train, test, epochs, seed):
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
    for _ in range(epochs):
        losses = [float(step(z)) for z in batches]
        history.append(
            {
                "train_nll": float(np.mean(losses)),
                "test_nll": -float(tf.reduce_mean(flow.log_prob(test))),
            }
        )
    return history


def main(argv=None):
    args = parse_args(argv)
    glf = load_glf(args.weights)
    train, test = latents(glf, args.data_dir, "train"), latents(glf, args.data_dir, "test")
    test_images = None
    rows = {}
    for name in args.variants.split(","):
        keras.utils.set_random_seed(args.seed)
        flow = RealNVP(glf.latent_dim, glf.flow_blocks, glf.flow_hidden_units, **VARIANTS[name])
        start = time.perf_counter()
        history = train_flow(flow, train, test, args.epochs, args.seed)
        row = {
            **VARIANTS[name],
            "parameters": int(flow.count_params()),
            "train_seconds": round(time.perf_counter() - start, 1),
            "final": history[-1],
            "test_nll_by_epoch": [round(h["test_nll"], 3) for h in history],
        }
        if args.num_fid_samples:
            if test_images is None:
                test_images = data.load("mnist", "test", data_dir=args.data_dir, batch_size=500)
            samples = np.concatenate(
                [
                    to_uint8(glf.decode(flow.sample(500, seed=i)).numpy(), value_range=(0.0, 1.0))
                    for i in range(args.num_fid_samples // 500)
                ]
            )
            row["fid"] = frechet_inception_distance(
                test_images, samples, real_cache_path=args.fid_cache, verbose=False
            )
        rows[name] = row
        print(name, json.dumps(row["final"]), row.get("fid", ""), flush=True)
    text = json.dumps(
        {
            "weights": args.weights,
            "test_reconstruction_mse": reconstruction_mse(glf, args.data_dir),
            "epochs": args.epochs,
            "variants": rows,
        }
    )
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
