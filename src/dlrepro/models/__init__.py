"""Model families. `build_model(settings)` is the only entry point the training loop uses."""
from __future__ import annotations

from torch import nn

ACTIVATIONS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": lambda: nn.LeakyReLU(0.01)}


def make_activation(name: str) -> nn.Module:
    module = ACTIVATIONS[name]()
    module.is_hidden_activation = True  # probes hook these to record per-layer statistics
    return module


def initialise(model: nn.Module, scheme: str, activation: str) -> None:
    """'default' keeps PyTorch's init; 'xavier' suits tanh/sigmoid, 'he' suits ReLU-like units."""
    if scheme == "default":
        return
    nonlinearity = "leaky_relu" if activation == "leaky_relu" else "relu"
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity=nonlinearity)
            nn.init.zeros_(module.bias)


def build_model(settings: dict) -> nn.Module:
    from dlrepro.models.cnn import CNN
    from dlrepro.models.mlp import MLP

    families = {"mlp": MLP, "cnn": CNN}
    if settings["model"] not in families:
        raise ValueError(f"model '{settings['model']}' is not a classifier family: {list(families)}")
    model = families[settings["model"]](settings)
    initialise(model, settings["init"], settings["activation"])
    return model


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Layers with weights, input to output: the 'layers' of per-layer gradient norms."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
