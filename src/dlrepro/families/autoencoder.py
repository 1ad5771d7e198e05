"""The convolutional autoencoder of note 002 (and, with `noise` > 0, its denoising variant).

Encoder: three strided 3x3 convolutions (28 -> 14 -> 7 -> 3), then 288 -> 128 -> latent.
Decoder: the mirror image with transposed convolutions and a sigmoid (images are in [0, 1]).
Trained with MSE and Adam (lr 1e-3, weight decay 1e-5) as in the note.

One deliberate difference from the note: its denoising loop computes the loss against the *noisy*
input (`loss_fn(decoded_data, image_noisy)`), which teaches the net to reproduce the noise. A
denoising autoencoder is trained to output the *clean* image, so the target here is the clean one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.settings import GENERATIVE


class Encoder(nn.Module):
    def __init__(self, latent: int):
        super().__init__()
        self.encoder_cnn = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(True),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(True),
            nn.Conv2d(16, 32, 3, stride=2, padding=0), nn.ReLU(True))
        self.encoder_lin = nn.Sequential(
            nn.Flatten(), nn.Linear(3 * 3 * 32, 128), nn.ReLU(True), nn.Linear(128, latent))

    def forward(self, x):
        return self.encoder_lin(self.encoder_cnn(x))


class Decoder(nn.Module):
    def __init__(self, latent: int):
        super().__init__()
        self.decoder_lin = nn.Sequential(
            nn.Linear(latent, 128), nn.ReLU(True), nn.Linear(128, 3 * 3 * 32), nn.ReLU(True))
        self.decoder_conv = nn.Sequential(
            nn.Unflatten(1, (32, 3, 3)),
            nn.ConvTranspose2d(32, 16, 3, stride=2, output_padding=0),
            nn.BatchNorm2d(16), nn.ReLU(True),
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),
            nn.BatchNorm2d(8), nn.ReLU(True),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1))

    def forward(self, z):
        return torch.sigmoid(self.decoder_conv(self.decoder_lin(z)))


def add_noise(images: torch.Tensor, noise: float, generator: torch.Generator | None = None):
    """Note 002's add_noise: Gaussian noise times the noise factor, clipped to [0, 1]."""
    if noise == 0:
        return images
    eps = torch.randn(images.shape, generator=generator, device="cpu").to(images.device)
    return (images + noise * eps).clip(0.0, 1.0)


class Autoencoder(nn.Module):
    def __init__(self, settings: dict):
        super().__init__()
        self.latent, self.noise = settings["latent"], settings["noise"]
        self.encoder, self.decoder = Encoder(self.latent), Decoder(self.latent)
        self.settings = settings

    def forward(self, x):
        return self.decoder(self.encoder(x))

    # -- the generative protocol (dlrepro.train.generative) -----------------------------------
    def make_optimizers(self) -> dict:
        return {"model": torch.optim.Adam(self.parameters(), lr=self.settings["lr"],
                                          weight_decay=self.settings["weight_decay"])}

    def train_step(self, x, y, optimizers) -> dict:
        loss = F.mse_loss(self(add_noise(x, self.noise)), x)   # clean target (see module doc)
        optimizers["model"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["model"].step()
        return {"loss": loss.detach()}

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        return {"loss": F.mse_loss(self(add_noise(x, self.noise, generator)), x)}

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        noisy = add_noise(x, self.noise, generator)
        codes, recon = self.encoder(noisy), self(noisy)
        train_codes = self.encoder(train_x)
        n = len(x)
        # "Sampling the prior": a plain AE has no prior, so decode N(0, I) as a VAE would, and
        # (fairer to the AE) a Gaussian fitted to its own training codes.
        prior = torch.randn(n, self.latent, generator=generator).to(x.device)
        fitted = train_codes.mean(0) + train_codes.std(0) * torch.randn(
            n, self.latent, generator=generator).to(x.device)
        pairs = {"reconstruction": (x, recon)}
        grid = {"original": x[:10]}
        if self.noise > 0:
            pairs["noisy_input"] = (x, noisy)
            grid["noisy"] = noisy[:10]
        grid["reconstructed"] = recon[:10]
        return {"pairs": pairs,
                "samples": {"prior": self.decoder(prior), "fitted_gaussian": self.decoder(fitted)},
                "grid": grid, "codes": codes, "decode": self.decoder}


FAMILY = Family(
    name="ae", kind="generative", data="fashion-mnist", scored=True, build=Autoencoder,
    description="note 002's convolutional (denoising) autoencoder",
    settings={**GENERATIVE,
              "noise": {"description": "The noise factor of note 002's denoising autoencoder "
                                       "(0 = plain AE).", "type": "number", "minimum": 0,
                        "default": 0.0}})
