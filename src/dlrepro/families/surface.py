"""2-D toy loss surfaces: how optimizers move through a ravine, a plateau and a local minimum.

ravine:  f = x^2/2 + 10 y^2                 (curvatures 1 and 20: an ill-conditioned bowl)
plateau: f = -exp(-|p - (2,0)|^2) - 0.6 exp(-|p - (-2,0)|^2 / 0.5) + 1
         (global minimum near (2,0), local minimum near (-2,0), an almost flat plateau far away)
Each run starts from every point of `starts`, jittered by the seed, and takes `steps` steps.
"""
from __future__ import annotations

import time

import pandas as pd
import torch

from dlrepro.families import Family
from dlrepro.families.settings import OPTIMIZER
from dlrepro.train.optim import build_optimizer
from dlrepro.train.seeding import derive_seed

GLOBAL_MINIMUM = {"ravine": (0.0, 0.0), "plateau": (2.0, 0.0)}


def surface_fn(name: str):
    if name == "ravine":
        return lambda p: 0.5 * p[..., 0] ** 2 + 10.0 * p[..., 1] ** 2
    if name == "plateau":
        def plateau(p):
            to_global = (p[..., 0] - 2.0) ** 2 + p[..., 1] ** 2
            to_local = (p[..., 0] + 2.0) ** 2 + p[..., 1] ** 2
            return 1.0 - torch.exp(-to_global) - 0.6 * torch.exp(-to_local / 0.5)
        return plateau
    raise ValueError(f"unknown surface '{name}'")


def minimum_value(name: str) -> float:
    """f* found numerically on a fine grid (the plateau's minimum is not exactly at (2,0))."""
    f = surface_fn(name)
    axis = torch.linspace(-6, 6, 2401, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1)
    return float(f(grid).min())


def descend(f, start, settings, tolerance: float, f_star: float):
    """Trajectory rows and the first step at which f - f* < tolerance (None if never)."""
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = build_optimizer(settings, [point])
    rows, reached = [], None
    for step in range(settings["steps"] + 1):
        value = f(point)
        rows.append((step, *point.detach().tolist(), value.item()))
        if reached is None and value.item() - f_star < tolerance:
            reached = step
        if step == settings["steps"]:
            break
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    return rows, reached


def run(spec: dict, folder, inputs=None, progress: bool = False) -> dict:
    settings = spec["settings"]
    tic = time.perf_counter()
    f = surface_fn(settings["surface"])
    f_star = minimum_value(settings["surface"])
    jitter = torch.Generator().manual_seed(derive_seed(spec["seed"], spec["experiment"], "start"))
    frames, metrics = [], {"status": "ok", "f_star": f_star}
    for i, start in enumerate(settings["starts"]):
        offset = (torch.rand(2, generator=jitter, dtype=torch.float64) - 0.5) * 2
        point = (torch.tensor(start, dtype=torch.float64) + settings["start_jitter"] * offset)
        rows, reached = descend(f, point.tolist(), settings, settings["tolerance"], f_star)
        frame = pd.DataFrame(rows, columns=["step", "x", "y", "f"]).assign(start=i)
        frames.append(frame)
        final = frame.iloc[-1]
        gx, gy = GLOBAL_MINIMUM[settings["surface"]]
        metrics[f"reached/{i}"] = reached is not None
        # Never reaching the tolerance counts as steps + 1, so the column stays numeric.
        metrics[f"steps_to_tol/{i}"] = reached if reached is not None else settings["steps"] + 1
        metrics[f"final_gap/{i}"] = float(final["f"] - f_star)
        metrics[f"final_distance/{i}"] = float(((final["x"] - gx) ** 2 + (final["y"] - gy) ** 2) ** 0.5)
    history = pd.concat(frames, ignore_index=True)
    folder.write(spec, metrics, history, FAMILY.device_for(spec)[1],
                 {"train_seconds": time.perf_counter() - tic})
    return metrics


FAMILY = Family(
    name="surface", kind="custom", fixed_seconds=0.5, data=None, run=run,
    outside_engine="an optimizer's path on a closed-form 2-D function: no model, no data",
    cpu_only="float64 steps on 2 parameters",
    description="an optimizer on a 2-D toy loss surface",
    settings={
        **OPTIMIZER,
        "surface": {"enum": list(GLOBAL_MINIMUM), "default": "ravine"},
        "steps": {"type": "integer", "minimum": 1, "default": 300},
        "starts": {"type": "array", "items": {"type": "array", "items": {"type": "number"},
                                              "minItems": 2, "maxItems": 2},
                   "default": [[-4.0, 1.0]], "minItems": 1},
        "start_jitter": {"type": "number", "minimum": 0, "default": 0.1},
        "tolerance": {"type": "number", "exclusiveMinimum": 0, "default": 0.001},
    })
