"""Multi-layer perceptron on flattened 28x28 images; hidden=[] is softmax regression."""
from torch import nn

from dlrepro.families import Family
from dlrepro.families.layers import Dropout, initialise, make_activation
from dlrepro.families.settings import CLASSIFIER


class MLP(nn.Module):
    def __init__(self, settings: dict, in_features: int = 28 * 28, classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for hidden in settings["hidden"]:
            layers.append(nn.Linear(width, hidden))
            if settings["batchnorm"]:
                layers.append(nn.BatchNorm1d(hidden))  # before the nonlinearity, as in Ioffe & Szegedy
            layers.append(make_activation(settings["activation"]))
            if settings["dropout"] > 0:
                layers.append(Dropout(settings["dropout"]))
            width = hidden
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


FAMILY = Family(
    name="mlp", kind="classifier", data="fashion-mnist", settings=CLASSIFIER,
    description="MLP classifier (hidden widths, activation, init, dropout, batch norm)",
    build=lambda settings: initialise(MLP(settings), settings["init"], settings["activation"]))
