"""The project's VAE (note 002's MLP, families/vae.py) as a density model of binarised images.

Trained by the ELBO as everywhere else; scored by −ELBO, an upper bound on −log p(x) (note 003,
lecture 10: a VAE only bounds the likelihood), and by the importance-weighted estimate of
Burda et al. (2016),

  log p(x) ≈ log (1/k) Σ_k p(x | z_k) p(z_k) / q(z_k | x),   z_k ~ q(z | x),

which equals the ELBO's estimate at k = 1 and tightens towards log p(x) as k grows.
"""
from __future__ import annotations

import math

import torch

from dlrepro.families import Family
from dlrepro.families.settings import DENSITY
from dlrepro.train.density import plan_work
from dlrepro.families.vae import VAE

IW_CHUNK = 100      # importance samples per decoder pass (memory: images x chunk x 784)


def bernoulli_log_likelihood(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | z) summed over pixels (the VAE's BCE, logs clamped at −100 like torch's)."""
    return (x * torch.log(x_hat).clamp_min(-100)
            + (1 - x) * torch.log(1 - x_hat).clamp_min(-100)).flatten(-3).sum(-1)


def normal_log_density(z: torch.Tensor, mean, log_var) -> torch.Tensor:
    return -0.5 * (((z - mean) ** 2) / log_var.exp() + log_var + math.log(2 * math.pi)).sum(-1)


class DensityVAE(VAE):
    def __init__(self, settings: dict):
        super().__init__({"architecture": "mlp", "hidden": [settings["hidden"]] * 2,
                          "latent": settings["latent"], "lr": settings["lr"], "weight_decay": 0.0})
        self.iw_samples = settings["iw_samples"]

    def init_output_bias(self, logits: torch.Tensor) -> None:
        last = [m for m in self.decoder.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.bias.copy_(logits)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """−ELBO per image: reconstruction (one z) + KL(q(z|x) ‖ N(0, I))."""
        x_hat, mean, log_var = self(x)
        kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp(), dim=1)
        return -bernoulli_log_likelihood(x_hat, x) + kl

    @torch.no_grad()
    def estimates(self, x: torch.Tensor, generator: torch.Generator) -> dict:
        """−log p̂(x) per image for each k of iw_samples (the first k draws of one sequence)."""
        mean, log_var = self.encoder(x)
        log_weights = []
        for start in range(0, max(self.iw_samples), IW_CHUNK):
            k = min(IW_CHUNK, max(self.iw_samples) - start)
            eps = torch.randn((k, *mean.shape), generator=generator).to(x.device)
            z = mean + torch.exp(0.5 * log_var) * eps                      # k x N x latent
            x_hat = self.decoder(z.flatten(0, 1)).reshape(k, *x.shape)
            log_weights.append(bernoulli_log_likelihood(x_hat, x.expand(k, *x.shape))
                               + normal_log_density(z, 0.0, torch.zeros_like(z))
                               - normal_log_density(z, mean, log_var))
        log_weights = torch.cat(log_weights)                               # K x N
        return {k: -(torch.logsumexp(log_weights[:k], 0) - math.log(k)) for k in self.iw_samples}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.latent, generator=generator).to(self.decoder.body[0].weight.device)
        probabilities = self.decoder(z)
        u = torch.rand(probabilities.shape, generator=generator).to(z.device)
        return (u < probabilities).float()


FAMILY = Family(
    name="vae-density", kind="density", data="binarised", figures=True, build=DensityVAE,
    plan_work=plan_work(sampled=lambda s: s["iw_images"] * max(s["iw_samples"])),
    description="the project's MLP VAE on binarised images: −ELBO and importance-weighted −log p(x)",
    settings={**DENSITY, "lr": {**DENSITY["lr"], "default": 0.003}})
