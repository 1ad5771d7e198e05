"""Building blocks shared by the classifier families: activations by name, weight init."""
from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": lambda: nn.LeakyReLU(0.01)}


def make_activation(name: str) -> nn.Module:
    module = ACTIVATIONS[name]()
    module.is_hidden_activation = True  # probes hook these to record per-layer statistics
    return module


def initialise(model: nn.Module, scheme: str, activation: str) -> nn.Module:
    """'default' keeps PyTorch's init; 'xavier' suits tanh/sigmoid, 'he' suits ReLU-like units;
    'truncated-normal' is DeepOBS's (TensorFlow's truncated_normal_initializer(stddev=0.05):
    redrawn beyond 2 sd; every bias 0.05)."""
    if scheme == "default":
        return model
    if scheme == "truncated-normal":
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(module.weight, std=0.05, a=-0.1, b=0.1)
                nn.init.constant_(module.bias, 0.05)
        return model
    nonlinearity = "leaky_relu" if activation == "leaky_relu" else "relu"
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity=nonlinearity)
            nn.init.zeros_(module.bias)
    return model


class Dropout(nn.Dropout):
    """nn.Dropout that can be handed its mask: when seeds train together (train/stack.py) each
    seed's masks come from that seed's own generator. Without a mask it is nn.Dropout."""

    def __init__(self, p: float):
        super().__init__(p)
        self.register_buffer("mask", torch.empty(0), persistent=False)   # not in checkpoints

    def forward(self, x):
        if self.training and self.mask.numel():
            return x * self.mask
        return super().forward(x)
