"""Table 3's auto-encoder with a RealNVP on its latent, shared by GLF and the VAE+flow prior.

GLF's comparison (section 4) keeps the networks fixed and changes the
objective: the deterministic auto-encoder with a latent flow (GLF, regularized
GLF) against a Gaussian VAE whose prior is that flow. This base builds the
networks, samples `x = G(F(T eps))` and interpolates; the subclasses own the
objective, `encode` and the likelihood semantics.
"""

import tensorflow as tf

from tfflows import layers
from tfflows.layers import RealNVP
from tfflows.models.base import GenerativeModel
from tfflows.models.infogan_networks import infogan_decoder, infogan_encoder

__all__ = ["LatentFlowAutoEncoder", "SMALL_NETWORKS", "default_latent_sizes", "interpolate"]

# The "small" preset of every model on these networks (tests, quick runs).
SMALL_NETWORKS = {"filters": (32, 64), "hidden_units": 256, "flow_hidden_units": 32}


def default_latent_sizes(image_shape):
    """`(nz, k)`: GLF's latent size and flow width, 20/64 for grey images, 64/256 for colour."""
    return (20, 64) if image_shape[-1] == 1 else (64, 256)


def interpolate(start, end, num_steps):
    """`[num_steps, N, ...]` points on the segments from `start` to `end` (both ends included)."""
    weights = tf.reshape(tf.linspace(0.0, 1.0, num_steps), [-1] + [1] * len(start.shape))
    return (1.0 - weights) * start[None] + weights * end[None]


class LatentFlowAutoEncoder(GenerativeModel):
    """Encoder `E`, decoder `G` (Table 3) and a dense RealNVP `f` (latent to noise, `F = f^-1`).

    The base of GLF and the VAE with a flow prior, which add their own
    arguments and pass these on; the encoder has `encoder_outputs_per_latent`
    outputs per latent unit (a class attribute: 1 for a point, 2 for a
    Gaussian's mean and log-scale).

    Args:
      image_shape: `(H, W, C)`, sides divisible by 4.
      latent_dim: nz (None: 20 for C = 1, else 64).
      filters: widths of the two stride-2 convolutions (Table 3: 64, 128).
      hidden_units: width of the auto-encoder's fully connected layer (1024).
      flow_blocks: coupling blocks of the latent flow (4).
      flow_hidden_units: k, the couplings' width (None: 64 for C = 1, else 256).
      flow_hidden_layers: hidden layers per coupling network (2, i.e. 3 layers).
      flow_separate_networks: separate `s` and `t` networks per coupling (the
        paper's section 3.1; the authors' code).
      flow_batch_norm: batch norm after the couplings' hidden layers (the
        authors' code). See `tfflows.layers.DenseConditioner` for both.
      flow_permute_every: "coupling" (a permutation after each coupling, the
        paper's Figure 1b) or "block" (one per block of two couplings, the
        authors' FrEIA flow); see `tfflows.layers.RealNVP`.
      flow_scale_activation: the couplings' log-scale activation, "tanh" or
        "atan" (FrEIA's soft clamp at 2, the authors' code); see
        `tfflows.bijectors.AffineCoupling`.
      flow_affine_direction: "forward" or "inverse" (section 3.1's couplings,
        `x_b * exp(s) + t` from latent to noise, as FrEIA computes them).
      autoencoder_init_stddev: None for Keras' initialisers; a float `s` draws
        the auto-encoder's kernels from N(0, s^2) (the authors' code: 0.02).
      decoder_logit_scale: the decoder's image is sigmoid(scale * a) of its last
        layer's output `a` (Table 3: 1; the authors' `0.5 tanh(a) + 0.5`: 2).
      autoencoder_dtype: Keras dtype policy of the auto-encoder's hidden layers
        (None: the global one). "mixed_bfloat16" runs its matmuls and convolutions
        in bfloat16 (~1.5x faster steps on CPUs with AMX, e.g. Sapphire Rapids;
        bf16 tensor cores on GPUs); weights, the latent, the logits, the flow and
        the loss stay float32.
      num_bits: bit depth the model sees.
    """

    encoder_outputs_per_latent = 1

    def __init__(
        self,
        image_shape,
        latent_dim=None,
        filters=(64, 128),
        hidden_units=1024,
        flow_blocks=4,
        flow_hidden_units=None,
        flow_hidden_layers=2,
        flow_separate_networks=True,
        flow_batch_norm=True,
        flow_permute_every="coupling",
        flow_scale_activation="tanh",
        flow_affine_direction="forward",
        autoencoder_init_stddev=None,
        decoder_logit_scale=1.0,
        autoencoder_dtype=None,
        num_bits=8,
        **kwargs,
    ):
        super().__init__(image_shape, num_bits=num_bits, **kwargs)
        default_nz, default_k = default_latent_sizes(self.image_shape)
        self.latent_dim = int(latent_dim or default_nz)
        self.latent_shape = (self.latent_dim,)
        self.filters = tuple(int(f) for f in filters)
        self.hidden_units = int(hidden_units)
        self.flow_blocks = int(flow_blocks)
        self.flow_hidden_units = int(flow_hidden_units or default_k)
        self.flow_hidden_layers = int(flow_hidden_layers)
        self.flow_separate_networks = bool(flow_separate_networks)
        self.flow_batch_norm = bool(flow_batch_norm)
        self.flow_permute_every = flow_permute_every
        self.flow_scale_activation = flow_scale_activation
        self.flow_affine_direction = flow_affine_direction
        self.autoencoder_init_stddev = (
            None if autoencoder_init_stddev is None else float(autoencoder_init_stddev)
        )
        self.autoencoder_dtype = autoencoder_dtype
        networks = dict(
            filters=self.filters,
            hidden_units=self.hidden_units,
            init_stddev=self.autoencoder_init_stddev,
            dtype=autoencoder_dtype,
        )
        self.encoder = infogan_encoder(
            self.image_shape, self.encoder_outputs_per_latent * self.latent_dim, **networks
        )
        self.decoder_logit_scale = float(decoder_logit_scale)
        self.decoder = infogan_decoder(
            self.image_shape, self.latent_dim, logit_scale=self.decoder_logit_scale, **networks
        )
        self.flow = RealNVP(
            self.latent_dim,
            num_blocks=self.flow_blocks,
            hidden_units=self.flow_hidden_units,
            num_hidden_layers=self.flow_hidden_layers,
            separate_networks=self.flow_separate_networks,
            batch_norm=self.flow_batch_norm,
            permute_every=self.flow_permute_every,
            scale_activation=self.flow_scale_activation,
            affine_direction=self.flow_affine_direction,
            name="flow",
        )

    def flow_log_prob(self, z, training=False):
        """`log p_flow(z)`; in training mode the flow's batch norms use the batch's statistics."""
        u, log_det = self.flow(z, training=training)  # the layer's call carries `training`
        return self.flow.base_log_prob(u) + log_det

    def _decode(self, latents):
        """Latents to float32 images `G(z)` in [0, 1] (Table 3's sigmoid output)."""
        return tf.cast(tf.sigmoid(self.decoder(latents, training=False)), tf.float32)

    def sample_latents(self, num_samples, temperature=1.0, seed=None):
        """`z = F(T eps)`, `eps ~ N(0, I)`: samples of the latent flow."""
        return self.flow.sample(num_samples, temperature=temperature, seed=seed)

    def sample(self, num_samples, temperature=1.0, seed=None, batch_statistics=False):
        """`x = G(F(eps))`, `eps ~ N(0, T^2 I)`; the same seed gives the same images.

        With `batch_statistics=True` the batch norms of the flow and the decoder
        normalize with the statistics of this batch of samples (read-only; see
        `tfflows.layers.batch_statistics`), as GLF's reference code samples: the
        images then depend on `num_samples` too.
        """
        if not batch_statistics:
            return self._decode(self.sample_latents(num_samples, temperature, seed))
        with layers.batch_statistics([self.flow, self.decoder]):
            return self._decode(self.sample_latents(num_samples, temperature, seed))

    def interpolate_images(self, images_a, images_b, num_steps=8):
        """`[num_steps, N, H, W, C]`: decoded points on the segments `encode(a)` to `encode(b)`."""
        path = interpolate(self.encode(images_a), self.encode(images_b), num_steps)
        return tf.reshape(
            self._decode(tf.reshape(path, [-1, self.latent_dim])),
            [num_steps, -1, *self.image_shape],
        )

    def interpolate_noise(self, noise_a, noise_b, num_steps=8):
        """`[num_steps, N, H, W, C]`: `G(F(eps))` from `noise_a` to `noise_b` (GLF's Figure 7)."""
        path = tf.reshape(interpolate(noise_a, noise_b, num_steps), [-1, self.latent_dim])
        return tf.reshape(self._decode(self.flow.forward(path)), [num_steps, -1, *self.image_shape])

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "filters": self.filters,
            "hidden_units": self.hidden_units,
            "flow_blocks": self.flow_blocks,
            "flow_hidden_units": self.flow_hidden_units,
            "flow_hidden_layers": self.flow_hidden_layers,
            "flow_separate_networks": self.flow_separate_networks,
            "flow_batch_norm": self.flow_batch_norm,
            "flow_permute_every": self.flow_permute_every,
            "flow_scale_activation": self.flow_scale_activation,
            "flow_affine_direction": self.flow_affine_direction,
            "autoencoder_init_stddev": self.autoencoder_init_stddev,
            "decoder_logit_scale": self.decoder_logit_scale,
            "autoencoder_dtype": self.autoencoder_dtype,
        }
