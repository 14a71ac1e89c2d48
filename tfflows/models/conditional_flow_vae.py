"""The general loss (6) of f-VAE (Su & Wu 2018): a VAE whose posterior is a conditional flow.

With `u ~ q(u) = N(0, I)` and a conditional flow `z = F_x(u)`, invertible in
`u` for every `x`, the posterior is `p(z|x) = int delta(z - F_x(u)) q(u) du`
(eq. 5). Putting it into the VAE's joint KL (eq. 4) gives, per example and up
to the data entropy (eq. 6):

    L(x, u) = -log q(x | F_x(u)) - log q(F_x(u)) - log|det dF_x(u)/du| + log q(u),

since by change of variables `log p(z|x) = log q(u) - log|det dF_x(u)/du|`. So
`-E_u[L(x, u)] = E_{p(z|x)}[log q(x, z) - log p(z|x)]` is an evidence lower
bound on the continuous density of `x`; with K samples
`log mean_k exp(-L(x, u_k))` is the importance-weighted bound (Burda et al.),
tighter and still a bound. On dequantized n-bit images `y` (model space
`[-0.5, 0.5]`, see `GenerativeModel`) it bounds the discrete
log-likelihood after `- D n log 2`: what `log_prob` reports, in nats
(`likelihood_kind = "elbo"`), and bits/dim of the 8-bit images.

Special cases (the paper's two, proved numerically in `tests/test_fvae.py`):
  1. `F_x(u) = sigma(x) * u + mu(x)` (eq. 7; `bijectors.ConditionalAffine`)
     with `q(z) = N(0, I)`: `E_u[-log q(F_x(u)) - log|det| + log q(u)]` is the
     analytic `KL(N(mu, sigma^2) || N(0, I))` (eq. 8-9): the standard VAE.
  2. `F_x(u) = F(sigma u + x)`, `q(x|z) = N(x; F^-1(z), sigma^2)` (eq. 10-12):
     `L = -log p_F(sigma u + x)`, a flow on noisy inputs.
  f-VAE (eq. 14-15) is `models.FVAE`.
"""

import tensorflow as tf

from tfflows.models.base import GenerativeModel
from tfflows.models.gaussian import standard_normal_log_prob

__all__ = ["ConditionalFlowVAE", "conditional_flow_terms"]


def conditional_flow_terms(posterior, prior_log_prob, decoder_log_prob, u, event_ndims):
    """The terms of loss (6) per example, for one `u` per example.

    Args:
      posterior: the bijector `F_x` (x bound), forward `u -> z`.
      prior_log_prob: `z -> log q(z)` per example.
      decoder_log_prob: `z -> log q(x | z)` per example.
      u: noise `[N, ...]`, `u ~ N(0, I)`.
      event_ndims: rank of one `u`.

    Returns a dict of `[N]` tensors: `reconstruction = -log q(x|z)`,
    `prior_nll = -log q(z)`, `log_det = log|det dF_x(u)/du|`,
    `noise_log_prob = log q(u)`, and `loss` = their signed sum, eq. (6) (nats;
    its negative is the single-sample log-weight `log q(x, z) - log p(z|x)`).
    """
    z = posterior.forward(u)
    log_det = posterior.forward_log_det_jacobian(u, event_ndims=event_ndims)
    terms = {
        "reconstruction": -decoder_log_prob(z),
        "prior_nll": -prior_log_prob(z),
        "log_det": log_det,
        "noise_log_prob": standard_normal_log_prob(u, event_ndims),
    }
    terms["loss"] = terms["reconstruction"] + terms["prior_nll"] - log_det + terms["noise_log_prob"]
    return terms


class ConditionalFlowVAE(GenerativeModel):
    """Base of models trained on loss (6): a conditional flow posterior, a prior, a decoder.

    Subclasses set `self.latent_shape` (the shape of `u` and `z`) and implement:
      - `posterior(y)`: the bijector `F_x`, forward `u -> z`, for model-space images `y`;
      - `prior_log_prob(z)` and `prior_sample(num_samples, temperature, seed)`;
      - `decoder_log_prob(y, z, posterior)`: `log q(x|z)`; it gets the posterior
        so that a decoder written through the posterior's own flow (f-VAE's
        `G(F^-1(z))`) reuses the pre-image that flow just computed;
      - `decoder_mean(z)`: the decoder's mean image (model space).
    and may override `extra_terms(batch_size)` (e.g. learned scales to log).

    Training minimises `-bound / (D log 2)` (bits/dim of the discrete image) with
    one Monte-Carlo `u` per example. `log_prob(..., num_importance_samples=K)`
    gives the IW bound. `encode(x) = F_x(0)`, the posterior's centre (f-VAE:
    `F(E(x))`; case 1: `mu(x)`); `decode(z)` the decoder mean in [0, 1].
    """

    likelihood_kind = "elbo"
    terms = ("loss", "log_likelihood", "reconstruction", "prior_nll", "log_det", "noise_log_prob")

    # -- the model: subclasses ---------------------------------------------------------------

    def posterior(self, y):
        raise NotImplementedError

    def prior_log_prob(self, z):
        raise NotImplementedError

    def prior_sample(self, num_samples, temperature=1.0, seed=None):
        raise NotImplementedError

    def decoder_log_prob(self, y, z, posterior):
        raise NotImplementedError

    def decoder_mean(self, z):
        raise NotImplementedError

    def extra_terms(self, batch_size):
        return {}

    # -- loss (6) ------------------------------------------------------------------------------

    def _noise(self, batch_size, seed):
        return self.latent_noise(batch_size, self.latent_shape, seed)

    def loss_terms(self, y, u):
        """Loss (6) and its terms, per example, for model-space `y` and noise `u` (nats)."""
        posterior = self.posterior(y)
        return conditional_flow_terms(
            posterior,
            self.prior_log_prob,
            lambda z: self.decoder_log_prob(y, z, posterior),
            u,
            len(self.latent_shape),
        )

    def per_example_terms(self, images, training=False, seed=None):
        y = self.model_space(images, seed)
        terms = self.loss_terms(y, self._noise(tf.shape(y)[0], self.noise_seeds(images, seed)))
        log_likelihood = self.discrete_log_likelihood(-terms.pop("loss"))
        terms["log_likelihood"] = log_likelihood
        terms["loss"] = self.loss_from_objective(log_likelihood)
        terms.update(self.extra_terms(tf.shape(y)[0]))
        return {name: terms[name] for name in self.terms}

    def importance_log_weights(self, y, seeds=None):
        """`-L(x, u)` of loss (6) per row: `log q(x, z) - log p(z | x)`, `u` from the row's seed."""
        return -self.loss_terms(y, self._noise(tf.shape(y)[0], seeds))["loss"]

    # -- latents and sampling ------------------------------------------------------------------

    def encode(self, images):
        """uint8 images to `F_x(0)`, the posterior's centre (dequantized with noise seed 0)."""
        y = self.model_space(images, 0)
        u = tf.zeros(tf.concat([tf.shape(y)[:1], self.latent_shape], axis=0), y.dtype)
        return self.posterior(y).forward(u)

    def _decode(self, latents):
        """Latents `z` to float32 images in [0, 1] (the decoder mean)."""
        return self.dequantize.to_unit_interval(self.decoder_mean(latents))

    def sample(self, num_samples, temperature=1.0, seed=None):
        """`z ~ q(z)` at temperature T, images = the decoder mean of z, in [0, 1]."""
        return self._decode(self.prior_sample(num_samples, temperature, seed))
