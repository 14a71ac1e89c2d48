"""Installs tfflows: generative models joining auto-encoders and normalizing flows."""

import setuptools

setuptools.setup(
    name="tfflows",
    version="0.1.0",
    description=(
        "Auto-encoders and normalizing flows (f-VAE, GLF, Glow) on TensorFlow, "
        "TensorFlow Probability and Keras 3."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=setuptools.find_packages(include=["tfflows*", "trainers*", "benchmarks*"]),
    python_requires=">=3.10",
    install_requires=[
        # Not tensorflow-cpu: tf-keras (pulled by the [tf] extra below) depends on
        # the `tensorflow` distribution, which runs on CPU-only machines too.
        "tensorflow>=2.21,<2.22",
        # The [tf] extra brings tf-keras, without which tfp.bijectors fails to import.
        "tensorflow-probability[tf]>=0.25,<0.26",
        "keras>=3",
        "absl-py",
        "numpy",
        "scipy",
        "pillow",
        "tensorflow-datasets",
        # TFDS 4.9 needs it for custom builders (digits, offline MNIST), undeclared.
        "importlib_resources",
        # tf.summary writes through it; TF 2.21 no longer installs it.
        "tensorboard",
        # The embedded `digits` data set (8x8 handwritten digits) ships with it.
        "scikit-learn",
    ],
    extras_require={
        "gpu": ["tensorflow[and-cuda]>=2.21,<2.22"],
        # matplotlib draws the reproduction report's plots (`python -m benchmarks.report`).
        "report": ["matplotlib"],
        "test": ["pytest", "pytest-xdist", "ruff>=0.17,<0.18", "matplotlib"],
    },
    entry_points={"console_scripts": ["tfflows-train = trainers.train:run"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
