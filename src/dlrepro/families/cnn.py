"""Small CNN in the style of pytorch/examples' MNIST net: two 3x3 conv blocks, then a linear layer.

Parameter sharing (one 3x3 kernel slides over the image) and sparse connections make it far
smaller than an MLP of similar accuracy: that is the cnn-vs-mlp claim. (`hidden` is MLP-only.)
"""
from torch import nn

from dlrepro.families import Family
from dlrepro.families.layers import Dropout, initialise, make_activation
from dlrepro.families.settings import CLASSIFIER


class CNN(nn.Module):
    def __init__(self, settings: dict, classes: int = 10):
        super().__init__()
        c1, c2 = settings["channels"]

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1),
                    *([nn.BatchNorm2d(cout)] if settings["batchnorm"] else []),
                    make_activation(settings["activation"]), nn.MaxPool2d(2)]

        self.net = nn.Sequential(
            *block(1, c1), *block(c1, c2),            # 28x28 -> 14x14 -> 7x7
            nn.Flatten(),
            *([Dropout(settings["dropout"])] if settings["dropout"] > 0 else []),
            nn.Linear(c2 * 7 * 7, classes))

    def forward(self, x):
        return self.net(x)


FAMILY = Family(
    name="cnn", kind="classifier", data="fashion-mnist", settings=CLASSIFIER,
    description="CNN classifier (two 3x3 conv blocks, channels)",
    build=lambda settings: initialise(CNN(settings), settings["init"], settings["activation"]))
