"""pix2pix (Isola et al. 2017): paired translation, edge map -> image, on Fashion-MNIST.

G is a U-Net (or, for the paper's ablation, the same encoder-decoder without skips); D is a
PatchGAN that sees the input beside the output (conditional) or the output alone (`gan`). The loss:
  D:  ½ [BCE(D(a, b), 1) + BCE(D(a, G(a)), 0)]
  G:  BCE(D(a, G(a)), 1) + λ |G(a) − b|₁        (λ = 100)
`loss` picks the terms: l1 (no discriminator), cgan, l1+cgan, l1+gan (D without the input).
Adam 2e-4, β1 = 0.5; batch norm; dropout in the generator is its only noise.
Scored on test pairs: G(edges(x)) against x (families/translation.py has the task).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.settings import TRAINING
from dlrepro.families.translation import (DEPTHS, TRANSLATION, Discriminator, UNet, adam, plan_work,
                                          edges, from_model, to_model, translation_outputs)

LOSSES = ("l1", "cgan", "l1+cgan", "l1+gan")


class Pix2Pix(nn.Module):
    def __init__(self, settings: dict):
        super().__init__()
        self.settings, self.loss = settings, settings["loss"]
        self.l1_weight = settings["l1_weight"] if "l1" in self.loss else 0.0
        self.adversarial = self.loss != "l1"
        self.conditional = "cgan" in self.loss
        self.generator = UNet(settings["width"], "batch", skips=settings["generator"] == "unet")
        if self.adversarial:
            self.discriminator = Discriminator(1 + self.conditional, settings["width"],
                                               settings["discriminator"], "batch")

    def translate(self, images: torch.Tensor) -> torch.Tensor:
        """Edge maps of images in [0, 1] -> G's images in [0, 1] (both 28 x 28)."""
        return from_model(self.generator(to_model(edges(images))))

    def _judge(self, a, b):
        return self.discriminator(torch.cat([a, b], 1) if self.conditional else b)

    # -- the generative protocol (dlrepro.train.generative) -----------------------------------
    def make_optimizers(self) -> dict:
        optimizers = {"generator": adam(self.generator.parameters(), self.settings)}
        if self.adversarial:
            optimizers["discriminator"] = adam(self.discriminator.parameters(), self.settings)
        return optimizers

    def train_step(self, x, y, optimizers) -> dict:
        a, b = to_model(edges(x)), to_model(x)
        fake = self.generator(a)
        logs = {}
        g_loss = torch.zeros((), device=x.device)
        if self.adversarial:
            # D: real pairs -> 1, generated -> 0 (halved, as the authors slow D down).
            real_logits, fake_logits = self._judge(a, b), self._judge(a, fake.detach())
            d_loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            optimizers["discriminator"].zero_grad(set_to_none=True)
            d_loss.backward()
            optimizers["discriminator"].step()
            logits = self._judge(a, fake)
            gan_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
            g_loss = g_loss + gan_loss
            logs.update(d_loss=d_loss.detach(), g_gan=gan_loss.detach())
        l1 = F.l1_loss(fake, b)
        g_loss = g_loss + self.l1_weight * l1
        optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generator"].step()
        return {**logs, "l1": l1.detach()}

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        x = x[:self.settings["eval_images"]]     # the training loss's L1, on 32 x 32 in [-1, 1]
        return {"l1": F.l1_loss(self.generator(to_model(edges(x))), to_model(x))}

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        return translation_outputs(x, y, edges(x), self.translate(x))


FAMILY = Family(
    name="pix2pix", kind="generative", data="fashion-mnist", scored=True, build=Pix2Pix,
    plan_work=plan_work(),
    description="pix2pix: paired edge map -> image translation (U-Net + PatchGAN, cGAN + L1)",
    settings={**TRAINING, **TRANSLATION,
              "batch_size": {**TRAINING["batch_size"], "default": 32},
              "lr": {"description": "Adam learning rate of G and D (β1 0.5).", "type": "number",
                     "exclusiveMinimum": 0, "default": 0.0002},
              "loss": {"description": "The generator's terms: L1 to the target, the conditional "
                                      "GAN, both, or L1 with a D that does not see the input.",
                       "enum": list(LOSSES), "default": "l1+cgan"},
              "l1_weight": {"description": "λ of the L1 term.", "type": "number", "minimum": 0,
                            "default": 100.0},
              "generator": {"enum": ["unet", "encoder-decoder"], "default": "unet"},
              "discriminator": {"description": "Receptive field of D's logits: 1 x 1, a patch, or "
                                               "the whole image.",
                                "enum": list(DEPTHS), "default": "patch"}})
