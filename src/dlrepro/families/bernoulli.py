"""Independent Bernoulli pixels: p(x) = Π_i p_i^x_i (1 − p_i)^(1 − x_i), n parameters.

The note's lower end of the parameter-count argument (note 003, lecture 09): no pixel depends on
another. Its maximum-likelihood fit is the training set's pixel means; it starts there
(density kind: init_output_bias) and Adam only polishes the smoothing.
"""
from __future__ import annotations

import torch
from torch import nn

from dlrepro.families import Family
from dlrepro.families.settings import DENSITY
from dlrepro.train.density import as_images, plan_work, independent_nll


class IndependentBernoulli(nn.Module):
    def __init__(self, pixels: int = 28 * 28):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(pixels))

    def init_output_bias(self, logits: torch.Tensor) -> None:
        with torch.no_grad():
            self.logits.copy_(logits)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        return independent_nll(x, self.logits)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(n, len(self.logits), generator=generator).to(self.logits.device)
        return as_images((u < torch.sigmoid(self.logits)).float())


FAMILY = Family(
    name="bernoulli", kind="density", data="binarised", figures=True,
    build=lambda settings: IndependentBernoulli(), plan_work=plan_work(),
    description="independent Bernoulli pixels (n parameters)", settings=DENSITY)
