"""Building blocks shared by the classifier families: activations by name, weight init."""
from __future__ import annotations

from torch import nn

ACTIVATIONS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": lambda: nn.LeakyReLU(0.01)}


def make_activation(name: str) -> nn.Module:
    module = ACTIVATIONS[name]()
    module.is_hidden_activation = True  # probes hook these to record per-layer statistics
    return module


def initialise(model: nn.Module, scheme: str, activation: str) -> nn.Module:
    """'default' keeps PyTorch's init; 'xavier' suits tanh/sigmoid, 'he' suits ReLU-like units."""
    if scheme == "default":
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
