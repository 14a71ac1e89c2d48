"""The InfoGAN-style auto-encoder of GLF's Table 3 (Xiao et al., 2019, appendix A).

Shared by GLF, regularized GLF and the VAE with a flow prior, so that the
three differ only in their objective, as in the paper's comparison.

  Encoder: 4x4 Conv_64 /2, ReLU; 4x4 Conv_128 /2, BN, ReLU;
           Flatten, FC -> 1024, BN, ReLU; FC -> nz (2 nz for a VAE).
  Decoder: FC nz -> 1024, BN, ReLU; FC -> 128 x M x M, BN, ReLU;
           4x4 Deconv_64 x2, BN, ReLU; 4x4 Deconv_C x2, sigmoid.

with `M = H / 4` (7 for MNIST, 8 for CIFAR-10, 16 for CelebA). Table 3 prints
the last layer as `Deconv_128`, which cannot give a C-channel image: it is the
image's C channels here (as in the authors' code). Stride-2 4x4 convolutions
with PyTorch's padding 1 are Keras' `padding="same"` on even sides. Batch
norm uses PyTorch's defaults (momentum 0.1, i.e. Keras' 0.9, eps 1e-5), as the
authors trained with them.

The encoder's wide FC layer (6272 -> 1024 on MNIST) is `tfflows.layers.Linear`,
Dense with PyTorch's `[out, in]` kernel layout, which oneDNN multiplies twice
as fast on CPUs (see its module doc); the function is Dense's. The last
transposed conv (64 -> C channels) is `tfflows.layers.ShiftedConv2DTranspose`,
Keras' layer computed as one matmul and shifted sums on CPUs.

Initialisation: Keras' defaults (Glorot-uniform kernels, zero biases), or
with `init_stddev=0.02` the authors' code's (every conv, transposed conv
and linear kernel N(0, 0.02^2), zero biases: the DCGAN/InfoGAN recipe).

The decoder here returns the *logits* of Table 3's sigmoid output, so that a
binary cross-entropy reconstruction is computed stably from them; the models
apply the sigmoid for images. With `logit_scale=2` the logits are twice the
last layer's output `a`, so the image is sigmoid(2a) = 0.5 tanh(a) + 0.5: the
authors' code's `Tanh() * 0.5 + 0.5` output, which moves the image twice as
far per unit of `a` as Table 3's sigmoid(a).
"""

import keras

from tfflows.layers import Linear, ShiftedConv2DTranspose

__all__ = ["infogan_decoder", "infogan_encoder", "check_infogan_shape"]


def _batch_norm(dtype):
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, dtype=dtype)


def _kernel_initializer(init_stddev):
    if init_stddev is None:
        return "glorot_uniform"
    return keras.initializers.RandomNormal(stddev=float(init_stddev))


def check_infogan_shape(image_shape):
    """`(M, M_w)`: the sides after the two stride-2 layers; they must divide by 4."""
    height, width, _ = image_shape
    if height % 4 or width % 4:
        raise ValueError(
            f"The InfoGAN auto-encoder needs image sides divisible by 4, got {image_shape[:2]}."
        )
    return height // 4, width // 4


def infogan_encoder(
    image_shape,
    outputs,
    filters=(64, 128),
    hidden_units=1024,
    init_stddev=None,
    dtype=None,
    name="encoder",
):
    """Table 3's encoder: images in [0, 1] `[N, H, W, C]` to `[N, outputs]`.

    `dtype` is the hidden layers' Keras dtype policy (e.g. "mixed_bfloat16");
    the output layer computes in float32 whatever it is.
    """
    check_infogan_shape(image_shape)
    init = dict(kernel_initializer=_kernel_initializer(init_stddev), dtype=dtype)
    inputs = keras.Input(image_shape)
    h = keras.layers.Conv2D(filters[0], 4, strides=2, padding="same", activation="relu", **init)(
        inputs
    )
    h = keras.layers.Conv2D(filters[1], 4, strides=2, padding="same", **init)(h)
    h = keras.layers.ReLU(dtype=dtype)(_batch_norm(dtype)(h))
    h = keras.layers.Flatten(dtype=dtype)(h)
    h = keras.layers.ReLU(dtype=dtype)(_batch_norm(dtype)(Linear(hidden_units, **init)(h)))
    outputs = keras.layers.Dense(outputs, **{**init, "dtype": "float32"})(h)
    return keras.Model(inputs, outputs, name=name)


def infogan_decoder(
    image_shape,
    latent_dim,
    filters=(64, 128),
    hidden_units=1024,
    init_stddev=None,
    logit_scale=1.0,
    dtype=None,
    name="decoder",
):
    """Table 3's decoder: latents `[N, latent_dim]` to image logits `[N, H, W, C]`.

    `dtype` is the hidden layers' Keras dtype policy (e.g. "mixed_bfloat16");
    the logits are computed in float32 whatever it is.
    """
    rows, cols = check_infogan_shape(image_shape)
    init = dict(kernel_initializer=_kernel_initializer(init_stddev), dtype=dtype)
    inputs = keras.Input((latent_dim,))
    h = keras.layers.Dense(hidden_units, **init)(inputs)
    h = keras.layers.ReLU(dtype=dtype)(_batch_norm(dtype)(h))
    h = keras.layers.Dense(filters[1] * rows * cols, **init)(h)
    h = keras.layers.ReLU(dtype=dtype)(_batch_norm(dtype)(h))
    h = keras.layers.Reshape((rows, cols, filters[1]), dtype=dtype)(h)
    h = keras.layers.Conv2DTranspose(filters[0], 4, strides=2, padding="same", **init)(h)
    h = keras.layers.ReLU(dtype=dtype)(_batch_norm(dtype)(h))
    last = {**init, "dtype": "float32"}
    logits = ShiftedConv2DTranspose(image_shape[-1], 4, strides=2, padding="same", **last)(h)
    if logit_scale != 1.0:
        logits = keras.layers.Rescaling(float(logit_scale), name="logit_scale", dtype="float32")(
            logits
        )
    return keras.Model(inputs, logits, name=name)
