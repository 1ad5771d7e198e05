"""Adversarial autoencoder (Makhzani et al. 2016): note 002's autoencoder whose codes are pushed
towards a prior by a GAN on the latent space, where the VAE uses its KL term.

Each batch has two phases, as in the paper:
1. reconstruction: encoder and decoder minimise the binary cross-entropy summed over pixels
   (per image, the VAE's reconstruction term, so the two are comparable);
2. regularisation: a discriminator on codes learns prior samples (label 1) against the batch's
   codes (label 0); then the encoder, as the generator, learns to make it call its codes prior
   samples (the non-saturating loss).
So the AAE can match any prior it can sample from. `regulariser: kl` trains the project's VAE
(families/vae.py, convolutional) instead: the baseline, whose closed-form KL only targets N(0, I).

Priors, in d latent dimensions:
  normal   N(0, I)
  mixture  10 Gaussians with means on a circle of radius 4 in the first two coordinates (0 in
           the others), standard deviation 0.5 in every coordinate
  uniform  the cube [-2, 2]^d (the uniform square for d = 2)
Every epoch the test codes are compared with samples of each prior by MMD² (metrics/two_sample.py):
the encoder's deterministic codes for the AAE, codes sampled from q(z|x) for the VAE (the
aggregate posterior its KL term shapes).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.autoencoder import Decoder, Encoder
from dlrepro.families.settings import GENERATIVE
from dlrepro.families.vae import VAE, bce_sum
from dlrepro.metrics.two_sample import mmd2

PRIORS = ("normal", "mixture", "uniform")
MIXTURE_COMPONENTS, MIXTURE_RADIUS, MIXTURE_STD = 10, 4.0, 0.5
UNIFORM_HALF_WIDTH = 2.0
DISTANCE_POINTS = 1000     # test codes (and prior samples) per MMD estimate


def sample_prior(name: str, n: int, dim: int, generator: torch.Generator | None = None):
    if name == "normal":
        return torch.randn(n, dim, generator=generator)
    if name == "uniform":
        return (2 * torch.rand(n, dim, generator=generator) - 1) * UNIFORM_HALF_WIDTH
    if name == "mixture":
        component = torch.randint(0, MIXTURE_COMPONENTS, (n,), generator=generator)
        angle = 2 * math.pi * component / MIXTURE_COMPONENTS
        means = torch.zeros(n, dim)
        means[:, 0] = MIXTURE_RADIUS * torch.cos(angle)
        if dim > 1:
            means[:, 1] = MIXTURE_RADIUS * torch.sin(angle)
        return means + MIXTURE_STD * torch.randn(n, dim, generator=generator)
    raise ValueError(f"unknown prior '{name}'")


def prior_distances(codes: torch.Tensor, generator: torch.Generator) -> dict:
    """MMD² between the first DISTANCE_POINTS codes and as many samples of every prior."""
    codes = codes[:DISTANCE_POINTS].cpu()
    return {f"mmd_{name}": torch.tensor(mmd2(codes, sample_prior(name, len(codes), codes.shape[1],
                                                                 generator)))
            for name in PRIORS}


class AAE(nn.Module):
    def __init__(self, settings: dict):
        super().__init__()
        self.settings, self.latent, self.prior = settings, settings["latent"], settings["prior"]
        self.encoder, self.decoder = Encoder(self.latent), Decoder(self.latent)
        self.discriminator = nn.Sequential(
            nn.Linear(self.latent, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))

    # -- the generative protocol (dlrepro.train.generative) -----------------------------------
    def make_optimizers(self) -> dict:
        s, betas = self.settings, (0.5, 0.999)
        return {"autoencoder": torch.optim.Adam([*self.encoder.parameters(), *self.decoder.parameters()],
                                                lr=s["lr"], weight_decay=s["weight_decay"]),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(),
                                                  lr=s["adversarial_lr"], betas=betas),
                "generator": torch.optim.Adam(self.encoder.parameters(), lr=s["adversarial_lr"],
                                              betas=betas)}

    def train_step(self, x, y, optimizers) -> dict:
        # 1. Reconstruction.
        recon = bce_sum(self.decoder(self.encoder(x)), x) / len(x)
        optimizers["autoencoder"].zero_grad(set_to_none=True)
        recon.backward()
        optimizers["autoencoder"].step()
        # 2. Regularisation: D tells prior samples from codes, then the encoder fools D.
        codes = self.encoder(x)
        prior = sample_prior(self.prior, len(x), self.latent).to(x.device)
        ones, zeros = torch.ones(len(x), device=x.device), torch.zeros(len(x), device=x.device)
        d_prior, d_codes = self.discriminator(prior)[:, 0], self.discriminator(codes.detach())[:, 0]
        d_loss = (F.binary_cross_entropy_with_logits(d_prior, ones)
                  + F.binary_cross_entropy_with_logits(d_codes, zeros))
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(codes)[:, 0], ones)
        optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generator"].step()
        return {"recon": recon.detach(), "d_loss": d_loss.detach(), "g_loss": g_loss.detach()}

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        codes = self.encoder(x)
        return {"recon": bce_sum(self.decoder(codes), x) / len(x), **prior_distances(codes, generator)}

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        codes = self.encoder(x)
        recon = self.decoder(codes)
        prior = sample_prior(self.prior, len(x), self.latent, generator).to(x.device)
        samples = self.decoder(prior)
        return {"pairs": {"reconstruction": (x, recon)}, "samples": {"prior": samples},
                "grid": {"original": x[:10], "reconstructed": recon[:10],
                         "prior samples": samples[:10]},
                "codes": codes, "decode": self.decoder, "prior_codes": prior}


class VAEBaseline(VAE):
    """The project's convolutional VAE, with the AAE's distances to the priors and prior codes
    for the latent figure."""

    def __init__(self, settings: dict):
        super().__init__({**settings, "architecture": "conv", "hidden": []})

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        losses = self.losses(x, generator)
        mean, log_var = self.encoder(x)
        eps = torch.randn(mean.shape, generator=generator).to(x.device)
        return {**losses, **prior_distances(mean + torch.exp(0.5 * log_var) * eps, generator)}

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        result = super().outputs(x, y, train_x, generator)
        return {**result, "prior_codes": sample_prior("normal", len(x), self.latent, generator)}


def build(settings: dict) -> nn.Module:
    return VAEBaseline(settings) if settings["regulariser"] == "kl" else AAE(settings)


FAMILY = Family(
    name="aae", kind="generative", data="fashion-mnist", scored=True, build=build,
    description="adversarial autoencoder (note 002's conv AE + a GAN on its codes), or the VAE",
    settings={**GENERATIVE,
              "regulariser": {"description": "adversarial: the AAE; kl: the project's conv VAE "
                                             "(its closed-form KL needs prior: normal).",
                              "enum": ["adversarial", "kl"], "default": "adversarial"},
              "prior": {"description": "The distribution the codes are pushed towards.",
                        "enum": list(PRIORS), "default": "normal"},
              "adversarial_lr": {"description": "Adam learning rate of the latent discriminator "
                                                "and of the encoder as its generator.",
                                 "type": "number", "exclusiveMinimum": 0, "default": 0.0005}},
    rules=[{"if": {"properties": {"regulariser": {"const": "kl"}}, "required": ["regulariser"]},
            "then": {"properties": {"prior": {"const": "normal"}}}}])
