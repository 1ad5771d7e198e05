"""Optimizers by name; 'momentum' is SGD with (heavy-ball) momentum."""
import torch


def build_optimizer(settings: dict, params):
    name, lr, wd = settings["optimizer"], settings["lr"], settings["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=settings["momentum"], weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer '{name}'")
