"""GANs: an MLP GAN, a DCGAN and a class-conditional GAN (cGAN, the MLP GAN given the label).

Images are scaled to [-1, 1] inside (tanh output); samples are returned in [0, 1].
The minimax game with the non-saturating generator loss (Goodfellow et al. 2014):
D maximises log D(x) + log(1 − D(G(z))); G maximises log D(G(z)). Adam (β1 = 0.5) as in DCGAN.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.settings import GENERATIVE

CLASSES = 10


class MLPGenerator(nn.Module):
    def __init__(self, latent: int, conditional: bool):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent + CLASSES * conditional, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 28 * 28), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))

    def forward(self, z):
        return self.net(z)


class MLPDiscriminator(nn.Module):
    def __init__(self, conditional: bool):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(28 * 28 + CLASSES * conditional, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))

    def forward(self, x):
        return self.net(x)


class DCGenerator(nn.Module):
    """Radford et al.: project, then strided transposed convolutions with BN and ReLU.
    (Widths 64/32, a quarter of the usual MNIST DCGAN, so that it trains on a laptop CPU.)"""

    def __init__(self, latent: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent, 64 * 7 * 7), nn.BatchNorm1d(64 * 7 * 7), nn.ReLU(True),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(True),  # 14x14
            nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh())                            # 28x28

    def forward(self, z):
        return self.net(z)


class DCDiscriminator(nn.Module):
    """Strided convolutions with LeakyReLU, BN after the first layer, no pooling."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),                     # 14x14
            nn.Conv2d(32, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),  # 7x7
            nn.Flatten(), nn.Linear(64 * 7 * 7, 1))

    def forward(self, x):
        return self.net(x)


class GAN(nn.Module):
    def __init__(self, settings: dict):
        super().__init__()
        self.settings, self.latent = settings, settings["latent"]
        self.conditional = settings["architecture"] == "cgan"
        if settings["architecture"] == "dcgan":
            self.generator, self.discriminator = DCGenerator(self.latent), DCDiscriminator()
        else:
            self.generator = MLPGenerator(self.latent, self.conditional)
            self.discriminator = MLPDiscriminator(self.conditional)

    def _condition(self, tensor, y):
        tensor = tensor.flatten(1)
        return torch.cat([tensor, F.one_hot(y, CLASSES).to(tensor.dtype)], 1) if self.conditional else tensor

    def generate(self, z, y):
        return self.generator(self._condition(z, y))

    def discriminate(self, images, y):
        return self.discriminator(self._condition(images, y)).squeeze(1)

    # -- the generative protocol (dlrepro.train.generative) -----------------------------------
    def make_optimizers(self) -> dict:
        lr = self.settings["lr"]
        return {"discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr,
                                                  betas=(0.5, 0.999)),
                "generator": torch.optim.Adam(self.generator.parameters(), lr=lr,
                                              betas=(0.5, 0.999))}

    def train_step(self, x, y, optimizers) -> dict:
        real = x * 2 - 1
        fake = self.generate(torch.randn(len(x), self.latent).to(x.device), y)
        ones, zeros = torch.ones(len(x), device=x.device), torch.zeros(len(x), device=x.device)
        # Discriminator: real -> 1, fake -> 0.
        d_real, d_fake = self.discriminate(real, y), self.discriminate(fake.detach(), y)
        d_loss = (F.binary_cross_entropy_with_logits(d_real, ones)
                  + F.binary_cross_entropy_with_logits(d_fake, zeros))
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        # Generator: make D call the fakes real.
        g_loss = F.binary_cross_entropy_with_logits(self.discriminate(fake, y), ones)
        optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generator"].step()
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach(),
                "d_fake": torch.sigmoid(d_fake).mean().detach()}

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        return {}

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        labels = torch.arange(len(x), device=x.device) % CLASSES
        z = torch.randn(len(x), self.latent, generator=generator).to(x.device)
        samples = (self.generate(z, labels) + 1) / 2
        if self.conditional:   # one row per class
            from dlrepro.data.fashion_mnist import CLASSES as NAMES
            grid = {NAMES[c]: samples[labels == c][:10] for c in range(CLASSES)}
        else:
            grid = {f"samples {r + 1}": samples[10 * r:10 * r + 10] for r in range(4)}
        return {"pairs": {}, "samples": {"samples": samples},
                "sample_labels": {"samples": labels} if self.conditional else {},
                "grid": grid, "codes": None, "decode": None}


def derived_metrics(history) -> dict:
    """The minimax game's opening: the discriminator's and generator's losses over epoch 1
    (first logged chunk vs the end of the epoch)."""
    early = history[(history["epoch"] > 0) & (history["epoch"] <= 1)]
    if len(early) < 2:
        return {}
    return {"d_loss_early_change": float(early["train_d_loss"].iloc[-1] - early["train_d_loss"].iloc[0]),
            "g_loss_early_change": float(early["train_g_loss"].iloc[-1] - early["train_g_loss"].iloc[0])}


FAMILY = Family(
    name="gan", kind="generative", data="fashion-mnist", scored=True, build=GAN,
    derived_metrics=derived_metrics,
    description="GAN: MLP, DCGAN or conditional (cgan)",
    settings={**{k: v for k, v in GENERATIVE.items() if k != "weight_decay"},
              "architecture": {"enum": ["mlp", "dcgan", "cgan"], "default": "mlp"}})
