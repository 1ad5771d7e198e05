"""The one training engine: every family that trains in epochs or rounds of steps (classifiers,
autoencoders, VAEs, GANs, density models, the Transformer, and the next ones) runs through `train`.

The engine owns what every run needs the same way: determinism switches, threads, the device and
its GPU slot, the seed of the initial weights, resuming from the checkpoint, the progress bar,
timing (with a CUDA synchronisation before the clock stops), divergence as a result, a
checkpoint after every epoch, and writing the run folder.

It trains a *group* of runs: the seeds of one variant, trained together as one stacked model
when their kind's steps can (train/stack.py, classifiers), or a group of one (the sequential
run; generative families, wrapped by `OneRun`). Every member keeps its own run folder,
checkpoint, history and status; a member that diverges or stops early is frozen while the others
go on. A kind of family supplies only its steps (train/classifier.py, train/generative.py):

  members                              how many runs the group trains
  epochs                               optional: the rounds to train, when they are not the
                                       settings' epochs (a Transformer's: log_every steps each)
  prepare_data(device)                 the runs' data splits, on the device
  build(device, init_seeds)            the model(s) and optimizer(s), each member under its seed
  start() -> [rows]                    history of the untrained model (epoch 0), per member
  train_epoch(epoch) -> [rows]         one pass over the training data (python floats), per member
  end_epoch(epoch, [rows], epoch_time, [elapsed]) -> [(rows, status)]   evaluate, decide
  freeze(i)                            member i stopped: keep its weights as they are now
  member_state(i) / load_member_state(i, state)      what member i's checkpoint holds (keys
                                       'optimizer...' are dropped once the member has finished)
  rng_state(i) / set_rng_state(i, state)             member i's random stream
  finish([history], [status], [folder]) -> [metrics] final scores, outputs.pt
  n_params                             the size of one member's model (goes into metrics)

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
    """Its parameters; a masked model (e.g. the PixelCNN) counts only those its masks leave free."""
    if hasattr(model, "free_parameters"):
        return model.free_parameters()
    return sum(p.numel() for p in model.parameters())


def train(specs: list[dict], folders: list, steps, progress: bool = True,
          slots_per_gpu: int = 1, keep_checkpoints: bool = False) -> list[dict]:
    """Train the runs described by `specs` (see config.Run.spec), member i into folders[i] (a
    RunFolder), with one steps object for the group; returns each member's metrics.
    keep_checkpoints: leave the finished runs' checkpoints for prune_checkpoints (a job of
    several groups prunes at its end, so a killed job's finished runs are restored, not retrained)."""
    enable_determinism()
    torch.set_num_threads(specs[0].get("threads", 1))
    with gpu_slots.claim(resolve_device(specs[0]["device"]), slots_per_gpu) as device:
        results = _train(specs, folders, steps, device, progress)
    if not keep_checkpoints:
        prune_checkpoints(specs, folders)
    return results


def prune_checkpoints(specs: list[dict], folders: list) -> None:
    """A complete run is its folder's files: the resume point goes (a re-run trains afresh, to
    the same numbers), unless the weights are a product (the scoring stage's feature classifier)."""
    for spec, folder in zip(specs, folders):
        if not spec.get("keep_weights"):
            folder.checkpoint_file.unlink(missing_ok=True)


def _resume_points(specs, folders, hashes) -> list[dict] | None:
    """Every member's checkpoint when the group can resume from them: all present, and every
    member still training at the same epoch (members that had stopped stay frozen). Else None:
    the group starts afresh (deterministic, so it reaches the same results)."""
    checkpoints = [folder.checkpoint(h) for folder, h in zip(folders, hashes)]
    if not all(checkpoints):
        if any(checkpoints):
            print(f"[dlrepro] {sum(map(bool, checkpoints))} of {len(specs)} seeds have a "
                  "checkpoint: the group starts afresh", file=sys.stderr)
        return None
    if len({c["epoch"] for c in checkpoints if c["status"] == "ok"}) > 1:
        print("[dlrepro] the seeds' checkpoints are at different epochs (a job killed while "
              "saving): the group starts afresh", file=sys.stderr)
        return None
    return checkpoints


def _train(specs: list[dict], folders: list, steps, device: torch.device, progress: bool) -> list[dict]:
    settings, experiment = specs[0]["settings"], specs[0]["experiment"]
    last_epoch = getattr(steps, "epochs", None) or settings["epochs"]
    members = range(steps.members)
    for folder in folders:
        folder.path.mkdir(parents=True, exist_ok=True)
    hashes = [stable_hash(spec) for spec in specs]
    steps.prepare_data(device)
    steps.build(device, [derive_seed(spec["seed"], experiment, "init") for spec in specs])

    checkpoints = _resume_points(specs, folders, hashes)
    if checkpoints:
        for i, checkpoint in enumerate(checkpoints):
            steps.load_member_state(i, checkpoint["state"])
            steps.set_rng_state(i, checkpoint["rng"])
        histories = [c["history"] for c in checkpoints]
        statuses = [c["status"] for c in checkpoints]
        elapsed = [c["elapsed"] for c in checkpoints]
        epochs = [c["epoch"] for c in checkpoints if c["status"] == "ok"]
        start_epoch = (epochs[0] if epochs else last_epoch) + 1
        for i in members:
            if statuses[i] != "ok":
                steps.freeze(i)
        print(f"[dlrepro] resuming {', '.join(str(f.path) for f in folders)} after epoch "
              f"{start_epoch - 1}", file=sys.stderr)
    else:
        histories, statuses, elapsed, start_epoch = steps.start(), ["ok"] * steps.members, \
            [0.0] * steps.members, 1

    seeds = ",".join(str(spec["seed"]) for spec in specs)
    bar = tqdm(range(start_epoch, last_epoch + 1), file=sys.stderr, ascii=True,
               desc=f"{experiment}/{specs[0]['variant']}/seed{seeds}", disable=not progress,
               mininterval=0)
    for epoch in bar:
        active = [i for i in members if statuses[i] == "ok"]
        if not active:           # every member diverged or stopped early (possibly before a resume)
            break
        tic = time.perf_counter()
        rows = steps.train_epoch(epoch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        # The members shared the epoch: each is charged its share of the wall time.
        epoch_time = (time.perf_counter() - tic) / steps.members
        for i in active:
            elapsed[i] += epoch_time
        ended = steps.end_epoch(epoch, rows, epoch_time, elapsed)
        for i in active:
            member_rows, statuses[i] = ended[i]
            histories[i].extend(member_rows)
            if statuses[i] != "ok":
                steps.freeze(i)
            state = steps.member_state(i)
            if statuses[i] != "ok" or epoch == last_epoch:
                # A finished run's checkpoint keeps what a re-run and scoring read (weights,
                # best weights, history), not the optimizer state only more training needs.
                state = {k: v for k, v in state.items() if not k.startswith("optimizer")}
            folders[i].save_checkpoint({
                "spec_hash": hashes[i], "epoch": epoch, "state": state,
                "rng": steps.rng_state(i), "history": histories[i], "elapsed": elapsed[i],
                "status": statuses[i]})
        last = ended[active[0]][0][-1]
        bar.set_postfix({k: f"{v:.3g}" for k, v in last.items()
                         if k.startswith("train_") or k == "val_acc"}, refresh=False)
    bar.close()

    results = steps.finish(histories, statuses, folders)
    for i, metrics in enumerate(results):
        metrics["n_params"] = steps.n_params
        frame = pd.DataFrame(histories[i])
        epoch_times = (frame.loc[frame["epoch"] > 0, "epoch_time"].dropna()
                       if "epoch_time" in frame else [])
        folders[i].write(specs[i], metrics, frame, device_description(device), {
            "train_seconds": elapsed[i],
            "epoch_seconds": float(epoch_times.mean()) if len(epoch_times) else math.nan,
            "seeds_trained_together": steps.members})
    return results


class OneRun:
    """A group of one for steps written for a single run (train/generative.py): its model uses
    the global random stream, which is therefore the member's stream."""
    members = 1

    def __init__(self, steps):
        self.steps = steps
        self.epochs = getattr(steps, "epochs", None)   # rounds that are not epochs (a Transformer)

    def prepare_data(self, device) -> None:
        self.steps.prepare_data(device)

    def build(self, device, init_seeds: list[int]) -> None:
        seed_everything(init_seeds[0])
        self.steps.build(device)

    def start(self) -> list:
        return [self.steps.start()]

    def train_epoch(self, epoch: int) -> list:
        return [self.steps.train_epoch(epoch)]

    def end_epoch(self, epoch, rows, epoch_time, elapsed) -> list:
        return [self.steps.end_epoch(epoch, rows[0], epoch_time, elapsed[0])]

    def freeze(self, i: int) -> None:
        """Nothing trains after the one member stops."""

    def member_state(self, i: int) -> dict:
        return self.steps.state_dict()

    def load_member_state(self, i: int, state: dict) -> None:
        self.steps.load_state_dict(state)

    def rng_state(self, i: int) -> dict:
        return rng_state()

    def set_rng_state(self, i: int, state: dict) -> None:
        set_rng_state(state)

    def finish(self, histories, statuses, folders) -> list[dict]:
        return [self.steps.finish(histories[0], statuses[0], folders[0])]

    @property
    def n_params(self) -> int:
        return count_parameters(self.steps.model)
