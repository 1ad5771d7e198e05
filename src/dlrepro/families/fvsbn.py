"""The fully visible sigmoid belief network (Frey 1998): logistic autoregression over the pixels,
p(x_i = 1 | x_<i) = σ(b_i + Σ_{j<i} W_ij x_j): n(n − 1)/2 + n parameters.

The chain rule with a linear conditional: the O(n²) middle of note 003's parameter-count
argument, between independent pixels (n) and a full table (2ⁿ − 1). Only W's strictly lower
triangle is stored, so the parameter count is exact.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.settings import DENSITY
from dlrepro.train.density import as_images, plan_work

ORDER_SEED = 1998        # the "random" order: one fixed permutation for every run


def pixel_order(name: str, pixels: int) -> torch.Tensor:
    """The raster scan, or one random permutation fixed for every run (the ordering ablation)."""
    if name == "raster":
        return torch.arange(pixels)
    return torch.randperm(pixels, generator=torch.Generator().manual_seed(ORDER_SEED))


class FVSBN(nn.Module):
    def __init__(self, pixels: int = 28 * 28, order: str = "raster"):
        super().__init__()
        self.pixels = pixels
        self.register_buffer("order", pixel_order(order, pixels))
        self.register_buffer("rows_cols", torch.tril_indices(pixels, pixels, offset=-1))
        self.weights = nn.Parameter(torch.zeros(self.rows_cols.shape[1]))   # W_ij, j < i
        self.bias = nn.Parameter(torch.zeros(pixels))

    def weight_matrix(self) -> torch.Tensor:
        w = self.weights.new_zeros(self.pixels, self.pixels)
        return w.index_put((self.rows_cols[0], self.rows_cols[1]), self.weights)

    def init_output_bias(self, logits: torch.Tensor) -> None:
        with torch.no_grad():
            self.bias.copy_(logits[self.order])

    def logits(self, x_ordered: torch.Tensor) -> torch.Tensor:
        return x_ordered @ self.weight_matrix().T + self.bias

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)[:, self.order]
        return F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        w = self.weight_matrix()
        x = self.bias.new_zeros(n, self.pixels)
        u = torch.rand(n, self.pixels, generator=generator).to(x.device)
        for i in range(self.pixels):
            x[:, i] = (u[:, i] < torch.sigmoid(x @ w[i] + self.bias[i])).float()
        image = torch.empty_like(x)
        image[:, self.order] = x
        return as_images(image)


FAMILY = Family(
    name="fvsbn", kind="density", data="binarised", figures=True,
    build=lambda settings: FVSBN(order=settings["order"]), plan_work=plan_work(),
    description="fully visible sigmoid belief network (logistic autoregression, O(n²) parameters)",
    settings={**DENSITY, "lr": {**DENSITY["lr"], "default": 0.005}})
