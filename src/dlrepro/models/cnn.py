"""Small CNN in the style of pytorch/examples' MNIST net: two 3x3 conv blocks, then a dense head.

Parameter sharing (one 3x3 kernel slides over the image) and sparse connections make it far
smaller than an MLP of similar accuracy: that is the cnn-vs-mlp claim.
"""
from torch import nn

from dlrepro.models import make_activation


class CNN(nn.Module):
    def __init__(self, settings: dict, classes: int = 10):
        super().__init__()
        c1, c2 = settings["channels"]
        dense = settings["hidden"][0] if settings["hidden"] else 64
        bn = settings["batchnorm"]
        act = settings["activation"]

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), *([nn.BatchNorm2d(cout)] if bn else []),
                    make_activation(act), nn.MaxPool2d(2)]

        drop = [nn.Dropout(settings["dropout"])] if settings["dropout"] > 0 else []
        self.net = nn.Sequential(
            *block(1, c1), *block(c1, c2),            # 28x28 -> 14x14 -> 7x7
            nn.Flatten(), *drop,
            nn.Linear(c2 * 7 * 7, dense), *([nn.BatchNorm1d(dense)] if bn else []),
            make_activation(act), *drop,
            nn.Linear(dense, classes))

    def forward(self, x):
        return self.net(x)
