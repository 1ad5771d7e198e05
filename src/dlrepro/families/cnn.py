"""Small CNN in the style of pytorch/examples' MNIST net: two conv blocks ("same" padding, 2x2
max-pooling), optional fully-connected hidden layers (`dense`), then a linear layer.

Parameter sharing (one kernel slides over the image) and sparse connections make it far
smaller than an MLP of similar accuracy: that is the cnn-vs-mlp claim. (`hidden` is MLP-only.)
With `channels: [32, 64], kernel: 5, dense: [1024], init: truncated-normal` it is DeepOBS's
fmnist_2c2d network (the full profile's optimizer benchmark).
"""
import torch
from torch import nn

from dlrepro.families import Family
from dlrepro.families.layers import Dropout, initialise, make_activation
from dlrepro.families.settings import CLASSIFIER


class CNN(nn.Module):
    def __init__(self, settings: dict, classes: int = 10):
        super().__init__()
        c1, c2 = settings["channels"]
        kernel = settings["kernel"]

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2),
                    *([nn.BatchNorm2d(cout)] if settings["batchnorm"] else []),
                    make_activation(settings["activation"]), nn.MaxPool2d(2)]

        layers = [*block(1, c1), *block(c1, c2), nn.Flatten()]     # 28x28 -> 14x14 -> 7x7
        width = c2 * 7 * 7
        for hidden in settings["dense"]:                 # fmnist_2c2d: one layer of 1024
            layers += [nn.Linear(width, hidden), make_activation(settings["activation"])]
            width = hidden
        if settings["dropout"] > 0:
            layers.append(Dropout(settings["dropout"]))
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def build(settings: dict) -> CNN:
    """Channels-last weights: PyTorch's CPU convolutions then run in that layout (measured 1.6x per
    training step of the cnn-vs-mlp CNN on one core: benchmarks/cnn_memory_format.py)."""
    model = initialise(CNN(settings), settings["init"], settings["activation"])
    return model.to(memory_format=torch.channels_last)


FAMILY = Family(
    name="cnn", kind="classifier", data="fashion-mnist", settings=CLASSIFIER,
    description="CNN classifier (two conv blocks: channels, kernel; dense hidden layers)",
    build=build)
