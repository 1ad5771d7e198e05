"""Variational autoencoders: the MLP VAE of note 002 and a convolutional one.

MLP (note 002): encoder 784 -> hidden -> hidden -> (mean, log-variance), LeakyReLU(0.2);
decoder latent -> hidden -> hidden -> 784 with a sigmoid. Conv: note 002's AE encoder/decoder
with the encoder emitting 2 x latent numbers (mean and log-variance).
Loss (note 002): binary cross-entropy summed over pixels + KL(q(z|x) ‖ N(0, I)), Adam 1e-3;
reported per image. z = mean + σ·ε (the reparameterisation trick).
"""
from __future__ import annotations

import torch
from torch import nn

from dlrepro.families import Family
from dlrepro.families.autoencoder import Decoder as ConvDecoder
from dlrepro.families.autoencoder import Encoder as ConvEncoder
from dlrepro.families.settings import GENERATIVE


def bce_sum(x_hat, x):
    """F.binary_cross_entropy(x_hat, x, reduction='sum') (logs clamped at -100 like torch's),
    written out so that a diverged run's NaN flows into the loss instead of raising."""
    return -(x * torch.log(x_hat).clamp_min(-100)
             + (1 - x) * torch.log(1 - x_hat).clamp_min(-100)).sum()


class MLPEncoder(nn.Module):
    def __init__(self, hidden: list[int], latent: int):
        super().__init__()
        layers, width = [nn.Flatten()], 28 * 28
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        self.body = nn.Sequential(*layers)
        self.mean, self.log_var = nn.Linear(width, latent), nn.Linear(width, latent)

    def forward(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h)


class MLPDecoder(nn.Module):
    def __init__(self, hidden: list[int], latent: int):
        super().__init__()
        layers, width = [], latent
        for h in reversed(hidden):
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        self.body = nn.Sequential(*layers, nn.Linear(width, 28 * 28), nn.Sigmoid(),
                                  nn.Unflatten(1, (1, 28, 28)))

    def forward(self, z):
        return self.body(z)


class ConvVAEEncoder(nn.Module):
    def __init__(self, latent: int):
        super().__init__()
        self.net = ConvEncoder(2 * latent)

    def forward(self, x):
        return self.net(x).chunk(2, dim=1)


class VAE(nn.Module):
    def __init__(self, settings: dict):
        super().__init__()
        self.settings, self.latent = settings, settings["latent"]
        if settings["architecture"] == "conv":
            self.encoder, self.decoder = ConvVAEEncoder(self.latent), ConvDecoder(self.latent)
        else:
            self.encoder = MLPEncoder(settings["hidden"], self.latent)
            self.decoder = MLPDecoder(settings["hidden"], self.latent)

    def forward(self, x, generator=None):
        mean, log_var = self.encoder(x)
        eps = torch.randn(mean.shape, generator=generator).to(x.device)
        return self.decoder(mean + torch.exp(0.5 * log_var) * eps), mean, log_var

    def losses(self, x, generator=None) -> dict:
        """Per-image reconstruction (BCE, summed over pixels), KL and their sum (the loss)."""
        x_hat, mean, log_var = self(x, generator)
        recon = bce_sum(x_hat, x) / len(x)
        kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp()) / len(x)
        return {"loss": recon + kl, "recon": recon, "kl": kl}

    # -- the generative protocol (dlrepro.train.generative) -----------------------------------
    def make_optimizers(self) -> dict:
        return {"model": torch.optim.Adam(self.parameters(), lr=self.settings["lr"],
                                          weight_decay=self.settings["weight_decay"])}

    def train_step(self, x, y, optimizers) -> dict:
        losses = self.losses(x)
        optimizers["model"].zero_grad(set_to_none=True)
        losses["loss"].backward()
        optimizers["model"].step()
        return {k: v.detach() for k, v in losses.items()}

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        return self.losses(x, generator)

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        mean, _ = self.encoder(x)
        recon = self.decoder(mean)          # reconstruct from the posterior mean: deterministic
        prior = self.decoder(torch.randn(len(x), self.latent, generator=generator).to(x.device))
        return {"pairs": {"reconstruction": (x, recon)}, "samples": {"prior": prior},
                "grid": {"original": x[:10], "reconstructed": recon[:10],
                         "prior samples": prior[:10]},
                "codes": mean, "decode": self.decoder}


def derived_metrics(history) -> dict:
    """The KL term rises from ~0 at initialisation, then settles: both read off the test curve."""
    kl = history["test_kl"].dropna().to_numpy()
    metrics = {"kl_rise": float(kl[-1] - kl[0])}
    if len(kl) >= 3:
        metrics["kl_last_epoch_change"] = float(abs(kl[-1] - kl[-2]) / abs(kl[-1]))
    return metrics


FAMILY = Family(
    name="vae", kind="generative", data="fashion-mnist", scored=True, build=VAE,
    derived_metrics=derived_metrics,
    description="variational autoencoder, note 002's MLP or a convolutional one",
    settings={**GENERATIVE,
              "architecture": {"enum": ["mlp", "conv"], "default": "mlp"},
              "hidden": {"description": "MLP encoder/decoder hidden widths.", "type": "array",
                         "default": [256, 256], "items": {"type": "integer", "minimum": 1}}})
