"""CycleGAN (Zhu et al. 2017): unpaired translation between edge maps (A) and images (B).

The training images are split once into two fixed halves: domain A is the edge maps of the first
half, domain B the images of the second, so no pair (edges(x), x) is ever seen in training.
G: A -> B and F: B -> A are U-Nets (the pix2pix generator, so CycleGAN vs pix2pix compares the
objectives, not the networks), D_A and D_B PatchGANs; instance norm, as the authors. The loss,
with the authors' defaults:
  GAN      least squares: D → 1 on real, 0 on generated; G, F → D says 1
  cycle    λ |F(G(a)) − a|₁ + λ |G(F(b)) − b|₁                  (λ = `cycle_weight`, 10)
  identity `identity`·λ (|G(b) − b|₁ + |F(a) − a|₁)             (0.5 · λ)
The discriminators see a history of 50 generated images (ImagePool); the learning rate decays
linearly to zero over the second half of the epochs; Adam 2e-4, β1 = 0.5.
Scored on the paired test set, which it never saw as pairs: G(edges(x)) against x, and the
reverse F(x) against edges(x); the per-epoch test losses are both cycle errors.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.data import Split
from dlrepro.families import Family
from dlrepro.families.settings import TRAINING
from dlrepro.families.translation import (DEPTHS, SIZE, TRANSLATION, Discriminator, ImagePool, UNet,
                                          adam, plan_work, edges, from_model, to_model,
                                          translation_outputs)


def unpaired_halves(split: Split) -> Split:
    """The training examples: example i holds image i of the first half (its edge map is the
    A-side input) beside image i of the second half (the B side) as two channels. The halves
    are disjoint and fixed, so no image is ever seen in both domains."""
    half = len(split) // 2
    return Split(torch.cat([split.x[:half], split.x[half:2 * half]], 1), split.y[:half])


def least_squares(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(logits, torch.full_like(logits, target))


class CycleGAN(nn.Module):
    def __init__(self, settings: dict):
        super().__init__()
        self.settings = settings
        self.cycle_weight, self.identity = settings["cycle_weight"], settings["identity"]
        width = settings["width"]
        self.generator_ab, self.generator_ba = UNet(width, "instance"), UNet(width, "instance")
        self.discriminator_a = Discriminator(1, width, settings["discriminator"], "instance")
        self.discriminator_b = Discriminator(1, width, settings["discriminator"], "instance")
        self.pool_a = ImagePool(settings["pool_size"], (1, SIZE, SIZE))
        self.pool_b = ImagePool(settings["pool_size"], (1, SIZE, SIZE))

    def translate(self, images: torch.Tensor) -> torch.Tensor:
        """G: edge maps of images in [0, 1] -> images in [0, 1] (28 x 28)."""
        return from_model(self.generator_ab(to_model(edges(images))))

    def cycle_errors(self, x: torch.Tensor) -> dict:
        """Mean |F(G(a)) − a| and |G(F(b)) − b| in the [-1, 1] units of training."""
        a, b = to_model(edges(x)), to_model(x)
        return {"cycle_a": F.l1_loss(self.generator_ba(self.generator_ab(a)), a),
                "cycle_b": F.l1_loss(self.generator_ab(self.generator_ba(b)), b)}

    # -- the generative protocol (dlrepro.train.generative) -----------------------------------
    training_examples = staticmethod(unpaired_halves)

    def make_optimizers(self) -> dict:
        return {"generators": adam([*self.generator_ab.parameters(),
                                    *self.generator_ba.parameters()], self.settings),
                "discriminators": adam([*self.discriminator_a.parameters(),
                                        *self.discriminator_b.parameters()], self.settings)}

    def start_epoch(self, epoch: int, optimizers: dict) -> None:
        """The authors' schedule: lr constant for the first half of the epochs, then linearly
        down towards 0 (set from the epoch, so a resumed run continues it exactly)."""
        epochs = self.settings["epochs"]
        constant = epochs // 2
        factor = 1.0 - max(0, epoch - constant) / (epochs - constant + 1)
        for optimizer in optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = self.settings["lr"] * factor

    def train_step(self, x, y, optimizers) -> dict:
        a, b = to_model(edges(x[:, :1])), to_model(x[:, 1:])
        fake_b, fake_a = self.generator_ab(a), self.generator_ba(b)
        # Generators: fool both discriminators, close both cycles, leave their own domain alone.
        gan = (least_squares(self.discriminator_b(fake_b), 1.0)
               + least_squares(self.discriminator_a(fake_a), 1.0))
        cycle = (F.l1_loss(self.generator_ba(fake_b), a) + F.l1_loss(self.generator_ab(fake_a), b))
        g_loss = gan + self.cycle_weight * cycle
        identity = torch.zeros((), device=x.device)
        if self.identity > 0:
            identity = F.l1_loss(self.generator_ab(b), b) + F.l1_loss(self.generator_ba(a), a)
            g_loss = g_loss + self.identity * self.cycle_weight * identity
        optimizers["generators"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generators"].step()
        # Discriminators: real -> 1, generated (from the history pools) -> 0, halved.
        d_loss = 0.5 * (least_squares(self.discriminator_a(a), 1.0)
                        + least_squares(self.discriminator_a(self.pool_a(fake_a)), 0.0)
                        + least_squares(self.discriminator_b(b), 1.0)
                        + least_squares(self.discriminator_b(self.pool_b(fake_b)), 0.0))
        optimizers["discriminators"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminators"].step()
        return {"d_loss": d_loss.detach(), "g_gan": gan.detach(), "cycle": cycle.detach(),
                "identity": identity.detach()}

    @torch.no_grad()
    def evaluate(self, x, y, generator) -> dict:
        return self.cycle_errors(x[:self.settings["eval_images"]])

    @torch.no_grad()
    def outputs(self, x, y, train_x, generator) -> dict:
        edge_maps, translated = edges(x), self.translate(x)
        reversed_model = self.generator_ba(to_model(x))        # F(x), in the models' space
        reverse, cycled = from_model(reversed_model), from_model(self.generator_ab(reversed_model))
        return translation_outputs(
            x, y, edge_maps, translated,
            extra_rows={"F(target)": reverse[:10], "G(F(target))": cycled[:10]},
            extra_pairs={"reverse": (edge_maps, reverse)})


FAMILY = Family(
    name="cyclegan", kind="generative", data="fashion-mnist", scored=True, build=CycleGAN,
    plan_work=plan_work(examples_per_image=0.5),
    description="CycleGAN: unpaired edge map <-> image translation (two U-Nets, two PatchGANs)",
    settings={**TRAINING, **TRANSLATION,
              "batch_size": {**TRAINING["batch_size"], "default": 32},
              "lr": {"description": "Adam learning rate (β1 0.5), decayed linearly to 0 over the "
                                    "second half of the epochs.", "type": "number",
                     "exclusiveMinimum": 0, "default": 0.0002},
              "cycle_weight": {"description": "λ of both cycle losses (0: GAN alone).",
                               "type": "number", "minimum": 0, "default": 10.0},
              "identity": {"description": "Weight of the identity loss, relative to λ.",
                           "type": "number", "minimum": 0, "default": 0.5},
              "pool_size": {"description": "Generated images the discriminators' history keeps.",
                            "type": "integer", "minimum": 0, "default": 50},
              "discriminator": {"enum": list(DEPTHS), "default": "patch"}})
