"""Note 004's worked example: a 2-2-2 sigmoid network, squared error, one gradient step.

The note writes dE/dW5 = dE/do1 * do1/dz3 * dz3/dW5 with do1/dz3 = out1 (1 - out1), dz3/dW5 = h1.
dE/do1 of E = 1/2 (tar1 - out1)^2 is (out1 - tar1); the note's "(tar1 - out1)" drops the minus
sign, which would turn the update uphill. We check the hand-derived chain rule for every weight
against autograd and against central finite differences (float64).
Numbers: the classic example (inputs .05/.10, targets .01/.99, biases .35/.60, w1..w8 = .15...55).
"""
from __future__ import annotations

import time

import pandas as pd
import torch

from dlrepro.families import Family

INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "b1": 0.35,
           "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55, "b2": 0.60}
WEIGHT_NAMES = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]


def sig(z):
    return torch.sigmoid(torch.as_tensor(z, dtype=torch.float64))  # floats or autograd tensors


def forward(w: dict, i=INPUTS):
    h1 = sig(w["w1"] * i[0] + w["w2"] * i[1] + w["b1"])
    h2 = sig(w["w3"] * i[0] + w["w4"] * i[1] + w["b1"])
    o1 = sig(w["w5"] * h1 + w["w6"] * h2 + w["b2"])
    o2 = sig(w["w7"] * h1 + w["w8"] * h2 + w["b2"])
    return h1, h2, o1, o2


def total_error(w: dict, t=TARGETS):
    _, _, o1, o2 = forward(w)
    return 0.5 * (t[0] - o1) ** 2 + 0.5 * (t[1] - o2) ** 2


def hand_gradients(w: dict, i=INPUTS, t=TARGETS) -> dict:
    """The chain rule written out, as in the note (with the sign of dE/dout fixed)."""
    h1, h2, o1, o2 = (v.item() for v in forward(w))
    w = {k: float(v) for k, v in w.items()}
    delta_o1 = (o1 - t[0]) * o1 * (1 - o1)          # dE/do1 * do1/dz3
    delta_o2 = (o2 - t[1]) * o2 * (1 - o2)
    delta_h1 = (delta_o1 * w["w5"] + delta_o2 * w["w7"]) * h1 * (1 - h1)
    delta_h2 = (delta_o1 * w["w6"] + delta_o2 * w["w8"]) * h2 * (1 - h2)
    return {"w1": delta_h1 * i[0], "w2": delta_h1 * i[1], "w3": delta_h2 * i[0],
            "w4": delta_h2 * i[1], "w5": delta_o1 * h1, "w6": delta_o1 * h2,
            "w7": delta_o2 * h1, "w8": delta_o2 * h2}


def autograd_gradients(w: dict) -> dict:
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in w.items()}
    total_error(params).backward()
    return {k: params[k].grad.item() for k in WEIGHT_NAMES}


def finite_difference_gradients(w: dict, eps: float = 1e-6) -> dict:
    def error_at(name, delta):
        return total_error({k: v + (delta if k == name else 0.0) for k, v in w.items()}).item()
    return {k: (error_at(k, eps) - error_at(k, -eps)) / (2 * eps) for k in WEIGHT_NAMES}


def run(spec: dict, folder, inputs=None, progress: bool = False) -> dict:
    tic = time.perf_counter()
    hand, auto, numeric = (hand_gradients(WEIGHTS), autograd_gradients(WEIGHTS),
                           finite_difference_gradients(WEIGHTS))
    table = pd.DataFrame({"weight": WEIGHT_NAMES, "value": [WEIGHTS[k] for k in WEIGHT_NAMES],
                          "hand": [hand[k] for k in WEIGHT_NAMES],
                          "autograd": [auto[k] for k in WEIGHT_NAMES],
                          "finite_difference": [numeric[k] for k in WEIGHT_NAMES]})
    lr = spec["settings"]["lr"]
    table["updated"] = table["value"] - lr * table["hand"]
    w_after = {**WEIGHTS, **dict(zip(WEIGHT_NAMES, table["updated"]))}
    metrics = {
        "status": "ok",
        "error_before": total_error(WEIGHTS).item(),
        "error_after_step": total_error(w_after).item(),
        "error_change": total_error(w_after).item() - total_error(WEIGHTS).item(),
        "dE_dw5_hand": hand["w5"], "dE_dw5_autograd": auto["w5"],
        "w5_after_step": float(table.loc[table.weight == "w5", "updated"].iloc[0]),
        "max_abs_diff_hand_autograd": float((table.hand - table.autograd).abs().max()),
        "max_abs_diff_hand_fd": float((table.hand - table.finite_difference).abs().max()),
    }
    folder.write(spec, metrics, None, FAMILY.device_for(spec)[1], {"train_seconds": time.perf_counter() - tic},
                 tables={"gradients": table})
    return metrics


FAMILY = Family(
    name="backprop", kind="custom", fixed_seconds=0.1, data=None, run=run,
    outside_engine="one forward and backward pass of note 004's example, by hand, by autograd "
                   "and by finite differences: nothing trains",
    cpu_only="float64 arithmetic on eight weights",
    description="note 004's 2-2-2 sigmoid network, gradients by hand, autograd and finite differences",
    settings={"lr": {"description": "The step size of the one gradient step.", "type": "number",
                     "exclusiveMinimum": 0, "default": 0.5}})
