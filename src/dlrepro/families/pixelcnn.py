"""A small PixelCNN (van den Oord et al. 2016): the conditionals p(x_i | x_<i) of the raster order
computed by masked convolutions, all pixels in one pass.

A 7x7 convolution of mask type A (the centre pixel and everything after it in raster order
zeroed: pixel i never sees itself), then `layers` 3x3 convolutions of type B (the centre kept:
feature i may use features of pixel i, which saw only x_<i), 1x1 convolutions to one logit per
pixel, plus a per-pixel output bias. Note 003's PixelRNN family with convolutional instead of
recurrent conditionals.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlrepro.families import Family
from dlrepro.families.settings import DENSITY
from dlrepro.data.binarised import PIXELS
from dlrepro.train.density import plan_work


class MaskedConv2d(nn.Conv2d):
    def __init__(self, in_channels: int, out_channels: int, kernel: int, mask_type: str):
        super().__init__(in_channels, out_channels, kernel, padding=kernel // 2)
        mask = torch.ones_like(self.weight)
        centre = kernel // 2
        mask[:, :, centre, centre + (mask_type == "B"):] = 0     # the centre row from the centre on
        mask[:, :, centre + 1:] = 0                                # every row below
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCNN(nn.Module):
    def __init__(self, channels: int = 16, layers: int = 3, size: int = 28):
        super().__init__()
        body = [MaskedConv2d(1, channels, 7, "A"), nn.ReLU()]
        for _ in range(layers):
            body += [MaskedConv2d(channels, channels, 3, "B"), nn.ReLU()]
        body += [nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, 1, 1)]
        self.net = nn.Sequential(*body)
        self.size = size
        self.bias = nn.Parameter(torch.zeros(1, 1, size, size))

    def free_parameters(self) -> int:
        """Parameters the masks leave free (masked weights are always zero)."""
        total = 0
        for module in self.modules():
            for name, parameter in module.named_parameters(recurse=False):
                masked = isinstance(module, MaskedConv2d) and name == "weight"
                total += int(module.mask.sum()) if masked else parameter.numel()
        return total

    def init_output_bias(self, logits: torch.Tensor) -> None:
        with torch.no_grad():
            self.bias.copy_(logits.reshape(self.bias.shape))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per pixel; x may be the top rows only (what sampling has drawn so far):
        no mask looks below its centre row, so those rows' logits are the same."""
        return self.net(x) + self.bias[:, :, :x.shape[2]]

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        x = self.bias.new_zeros(n, 1, self.size, self.size)
        u = torch.rand(n, 1, self.size, self.size, generator=generator).to(x.device)
        for r in range(self.size):
            for c in range(self.size):
                p = torch.sigmoid(self.logits(x[:, :, :r + 1])[:, :, r, c])
                x[:, :, r, c] = (u[:, :, r, c] < p).float()
        return x


FAMILY = Family(
    name="pixelcnn", kind="density", data="binarised", figures=True,
    build=lambda settings: PixelCNN(settings["channels"], settings["layers"]),
    # sampling: one forward pass over half the image on average per pixel
    plan_work=plan_work(sampled=lambda s: s["samples"] * PIXELS),   # one pass per pixel
    description="small PixelCNN: masked convolutions (type A, then B) as the conditionals",
    settings={**DENSITY, "lr": {**DENSITY["lr"], "default": 0.005}})
