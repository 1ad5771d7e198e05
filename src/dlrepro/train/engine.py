"""The one training engine: every family that trains in epochs (classifiers, autoencoders, VAEs,
GANs, and the next ones) runs through `train`.

The engine owns what every run needs the same way: determinism switches, threads, the device and
its GPU slot, the seed of the initial weights, resuming from the checkpoint, the progress bar,
timing (with a CUDA synchronisation before the clock stops), divergence as a result, a
checkpoint after every epoch, and writing the run folder. A kind of family supplies only its
steps (train/classifier.py, train/generative.py):

  prepare_data(device)             the run's data split, on the device
  build(device)                    the model and its optimizers (the engine seeded them first)
  start() -> rows                  history of the untrained model (epoch 0)
  train_epoch(epoch) -> rows       one pass over the training data (python floats)
  end_epoch(epoch, rows, epoch_time, elapsed) -> (rows, status)   evaluate, decide the status
  state_dict() / load_state_dict(state)                           what a checkpoint holds
  finish(history, status, folder) -> metrics                      final scores, outputs.pt
  model                            the nn.Module (its size goes into metrics as n_params)

Habits that make it fast for small models: the data set is one tensor on the device and batches
are index slices; per-batch statistics stay on the device and are read once per epoch.
Habits that make it reproducible: seeds derived from (seed, experiment, purpose), deterministic
algorithms, a checkpoint after every epoch from which a re-run resumes to bit-identical metrics.
"""
from __future__ import annotations

import math
import sys
import time

import pandas as pd
import torch
from tqdm import tqdm

from dlrepro.io import stable_hash
from dlrepro.provenance import device_description
from dlrepro.train import gpu_slots
from dlrepro.train.seeding import (derive_seed, enable_determinism, resolve_device, rng_state,
                                   seed_everything, set_rng_state)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train(spec: dict, folder, steps, progress: bool = True, slots_per_gpu: int = 1) -> dict:
    """Train the run described by `spec` (see config.Run.spec) into `folder` (a RunFolder)."""
    enable_determinism()
    torch.set_num_threads(spec.get("threads", 1))
    with gpu_slots.claim(resolve_device(spec["device"]), slots_per_gpu) as device:
        return _train(spec, folder, steps, device, progress)


def _train(spec: dict, folder, steps, device: torch.device, progress: bool) -> dict:
    folder.path.mkdir(parents=True, exist_ok=True)
    settings, seed, experiment = spec["settings"], spec["seed"], spec["experiment"]
    spec_hash = stable_hash(spec)
    steps.prepare_data(device)
    seed_everything(derive_seed(seed, experiment, "init"))
    steps.build(device)

    checkpoint = folder.checkpoint(spec_hash)
    if checkpoint:
        steps.load_state_dict(checkpoint["state"])
        set_rng_state(checkpoint["rng"])
        history, status = checkpoint["history"], checkpoint["status"]
        start_epoch, elapsed = checkpoint["epoch"] + 1, checkpoint["elapsed"]
        print(f"[dlrepro] resuming {folder.path} after epoch {checkpoint['epoch']}", file=sys.stderr)
    else:
        history, status, start_epoch, elapsed = steps.start(), "ok", 1, 0.0

    bar = tqdm(range(start_epoch, settings["epochs"] + 1), file=sys.stderr, ascii=True,
               desc=f"{experiment}/{spec['variant']}/seed{seed}", disable=not progress,
               mininterval=0)
    for epoch in bar:
        if status != "ok":       # diverged or stopped early (possibly before a resume)
            break
        tic = time.perf_counter()
        rows = steps.train_epoch(epoch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        epoch_time = time.perf_counter() - tic
        elapsed += epoch_time
        rows, status = steps.end_epoch(epoch, rows, epoch_time, elapsed)
        history.extend(rows)
        bar.set_postfix({k: f"{v:.3g}" for k, v in rows[-1].items()
                         if k.startswith("train_") or k == "val_acc"}, refresh=False)
        folder.save_checkpoint({"spec_hash": spec_hash, "epoch": epoch, "state": steps.state_dict(),
                                "rng": rng_state(), "history": history, "elapsed": elapsed,
                                "status": status})
    bar.close()

    metrics = steps.finish(history, status, folder)
    metrics["n_params"] = count_parameters(steps.model)
    frame = pd.DataFrame(history)
    epoch_times = frame.loc[frame["epoch"] > 0, "epoch_time"].dropna() if "epoch_time" in frame else []
    folder.write(spec, metrics, frame, device_description(device), {
        "train_seconds": elapsed,
        "epoch_seconds": float(epoch_times.mean()) if len(epoch_times) else math.nan})
    return metrics
