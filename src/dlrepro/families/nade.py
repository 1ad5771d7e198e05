"""NADE, the neural autoregressive distribution estimator (Larochelle & Murray 2011).

  h_i = σ(c + W_{:, <i} x_{<i}),   p(x_i = 1 | x_{<i}) = σ(b_i + V_i · h_i)

One W is shared by every conditional: the hidden pre-activation of pixel i + 1 is that of pixel
i plus W_{:, i} x_i, so all n conditionals (and the exact log p(x)) cost one pass, O(nH), by a
cumulative sum. Sampling is pixel by pixel. The pixel order is the raster scan or one random
permutation fixed for every run (the note's "the ordering matters" ablation).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.fvsbn import pixel_order
from dlrepro.families.settings import DENSITY
from dlrepro.train.density import as_images, plan_work


class NADE(nn.Module):
    def __init__(self, pixels: int = 28 * 28, hidden: int = 100, order: str = "raster"):
        super().__init__()
        self.pixels = pixels
        self.register_buffer("order", pixel_order(order, pixels))
        self.W = nn.Parameter(torch.randn(hidden, pixels) * 0.01)     # input -> hidden
        self.c = nn.Parameter(torch.zeros(hidden))
        self.V = nn.Parameter(torch.randn(pixels, hidden) * 0.01)     # hidden -> pixel i
        self.b = nn.Parameter(torch.zeros(pixels))

    def init_output_bias(self, logits: torch.Tensor) -> None:
        with torch.no_grad():
            self.b.copy_(logits[self.order])

    def logits(self, x_ordered: torch.Tensor) -> torch.Tensor:
        """Every conditional's logit in one pass: a_i = c + Σ_{j<i} W_{:, j} x_j (exclusive sum)."""
        contributions = x_ordered.unsqueeze(2) * self.W.T.unsqueeze(0)          # N x n x H
        a = self.c + torch.cumsum(contributions, dim=1) - contributions
        return torch.einsum("nih,ih->ni", torch.sigmoid(a), self.V) + self.b

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)[:, self.order]
        return F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        x = self.b.new_zeros(n, self.pixels)
        a = self.c.expand(n, -1).clone()
        u = torch.rand(n, self.pixels, generator=generator).to(x.device)
        for i in range(self.pixels):
            p = torch.sigmoid(torch.sigmoid(a) @ self.V[i] + self.b[i])
            x[:, i] = (u[:, i] < p).float()
            a += x[:, i:i + 1] * self.W[:, i]
        image = torch.empty_like(x)
        image[:, self.order] = x
        return as_images(image)


FAMILY = Family(
    name="nade", kind="density", data="binarised", figures=True,
    build=lambda settings: NADE(hidden=settings["hidden"], order=settings["order"]),
    plan_work=plan_work(),
    description="NADE: autoregressive, weights shared across the conditionals (O(nH) parameters)",
    settings={**DENSITY, "lr": {**DENSITY["lr"], "default": 0.02}})
