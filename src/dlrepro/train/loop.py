"""The one training loop for every classifier run.

Habits that make it fast for small models: the whole data set is one tensor on the device and
batches are index slices; per-batch statistics stay on the device and are read once per epoch.
Habits that make it reproducible: seeds derived from (seed, experiment), deterministic algorithms,
a checkpoint after every epoch (weights, optimizer, RNG states, history) from which a re-run
resumes to bit-identical metrics.
"""
from __future__ import annotations

import copy
import math
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from dlrepro.config import stable_hash
from dlrepro.data import Split, run_splits
from dlrepro.data.fashion_mnist import load_cache
from dlrepro.io import atomic_torch_save
from dlrepro.models import build_model, count_parameters
from dlrepro.provenance import device_description
from dlrepro.runfiles import write_run
from dlrepro.train import gpu_slots
from dlrepro.train import probes as probe_lib
from dlrepro.train.optim import build_optimizer
from dlrepro.train.seeding import (derive_seed, enable_determinism, resolve_device, rng_state,
                                   seed_everything, set_rng_state)

CHECKPOINT = "checkpoint.pt"
EVAL_CHUNK = 4096


@torch.no_grad()
def evaluate(model, split: Split) -> tuple[float, float]:
    """(mean loss, accuracy) in eval mode, chunked; one host sync."""
    model.eval()
    loss = torch.zeros((), device=split.x.device)
    correct = torch.zeros((), device=split.x.device, dtype=torch.long)
    for start in range(0, len(split), EVAL_CHUNK):
        logits = model(split.x[start:start + EVAL_CHUNK])
        y = split.y[start:start + EVAL_CHUNK]
        loss += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    loss, correct = torch.stack([loss, correct.float()]).tolist()
    return loss / len(split), correct / len(split)


def train_epoch(model, optimizer, train: Split, batch_size: int, order_seed: int):
    """One pass in a seeded order. Returns (mean loss, accuracy) as device tensors (no sync)."""
    model.train()
    n = len(train)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(order_seed))
    order = order.to(train.x.device)
    loss_sum = torch.zeros((), device=train.x.device)
    correct = torch.zeros((), device=train.x.device, dtype=torch.long)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        x, y = train.x[idx], train.y[idx]
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(idx)
        correct += (logits.detach().argmax(1) == y).sum()
    return loss_sum / n, correct.float() / n


def load_checkpoint(path: Path, spec_hash: str):
    if not path.exists():
        return None
    try:
        state = torch.load(path, weights_only=False)  # our own file: holds RNG states
    except Exception as err:  # a torn file cannot happen with atomic writes, but be safe
        print(f"[dlrepro] ignoring unreadable checkpoint {path}: {err}", file=sys.stderr)
        return None
    if state.get("spec_hash") != spec_hash:
        print(f"[dlrepro] checkpoint {path} is from other settings; starting afresh",
              file=sys.stderr)
        return None
    return state


def train_classifier(spec: dict, out_dir: str | Path, data: str | Path | dict,
                     progress: bool = True, slots_per_gpu: int = 1) -> dict:
    """Train one run described by `spec` (see config.Run.spec) and write its files to out_dir.

    `data` is the prepared Fashion-MNIST file or its already loaded content (several runs in
    one process load it once).
    """
    enable_determinism()
    torch.set_num_threads(spec.get("threads", 1))
    cache = data if isinstance(data, dict) else load_cache(data)
    with gpu_slots.claim(resolve_device(spec["device"]), slots_per_gpu) as device:
        return _train(spec, Path(out_dir), cache, device, progress)


def _train(spec: dict, out_dir: Path, cache: dict, device: torch.device, progress: bool) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    settings, seed, experiment = spec["settings"], spec["seed"], spec["experiment"]
    spec_hash = stable_hash(spec)
    splits = run_splits(spec, cache, device)
    train = splits["train"]
    batch_size = len(train) if settings["batch_size"] == "full" else settings["batch_size"]

    seed_everything(derive_seed(seed, experiment, "init"))
    model = build_model(settings).to(device)
    optimizer = build_optimizer(settings, model.parameters())

    def probe(epoch: int) -> dict:
        measured = probe_lib.measure(model, settings["probes"], train, batch_size,
                                     derive_seed(seed, experiment, f"probe{epoch}"))
        return dict(zip(measured, torch.stack(list(measured.values())).tolist())) if measured else {}

    checkpoint = load_checkpoint(out_dir / CHECKPOINT, spec_hash)
    if checkpoint:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        set_rng_state(checkpoint["rng"])
        history, best = checkpoint["history"], checkpoint["best"]
        start_epoch, elapsed, status = checkpoint["epoch"] + 1, checkpoint["elapsed"], checkpoint["status"]
        print(f"[dlrepro] resuming {out_dir} after epoch {checkpoint['epoch']}", file=sys.stderr)
    else:
        # Epoch 0 is the untrained model: curves start where training starts.
        val_loss, val_acc = evaluate(model, splits["val"])
        train_loss, train_acc = evaluate(model, train)
        history = [{"epoch": 0, "train_loss": train_loss, "train_acc": train_acc,
                    "val_loss": val_loss, "val_acc": val_acc, "epoch_time": 0.0, "elapsed": 0.0,
                    **probe(0)}]
        best = {"epoch": 0, "val_acc": val_acc, "state": copy.deepcopy(model.state_dict())}
        start_epoch, elapsed, status = 1, 0.0, "ok"

    epochs = range(start_epoch, settings["epochs"] + 1)
    bar = tqdm(epochs, desc=f"{experiment}/{spec['variant']}/seed{seed}", file=sys.stderr,
               disable=not progress, ascii=True, mininterval=0)
    for epoch in bar:
        if status != "ok":
            break
        tic = time.perf_counter()
        train_loss, train_acc = train_epoch(model, optimizer, train, batch_size,
                                            derive_seed(seed, experiment, f"order{epoch}"))
        train_loss, train_acc = torch.stack([train_loss, train_acc]).tolist()
        if device.type == "cuda":
            torch.cuda.synchronize()
        epoch_time = time.perf_counter() - tic
        elapsed += epoch_time
        if not math.isfinite(train_loss):
            status = "diverged"  # a result, not a crash: files are still written below
            history.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                            "val_loss": math.nan, "val_acc": math.nan,
                            "epoch_time": epoch_time, "elapsed": elapsed})
        else:
            val_loss, val_acc = evaluate(model, splits["val"])
            history.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                            "val_loss": val_loss, "val_acc": val_acc, "epoch_time": epoch_time,
                            "elapsed": elapsed, **probe(epoch)})
            bar.set_postfix(train_loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}",
                            refresh=False)
            if val_acc > best["val_acc"]:  # the validation set picks the epoch
                best = {"epoch": epoch, "val_acc": val_acc,
                        "state": copy.deepcopy(model.state_dict())}
            if settings["early_stopping"] and epoch - best["epoch"] >= settings["patience"]:
                status = "stopped_early"
        atomic_torch_save({"spec_hash": spec_hash, "epoch": epoch, "model": model.state_dict(),
                           "optimizer": optimizer.state_dict(), "rng": rng_state(),
                           "history": history, "best": best, "elapsed": elapsed,
                           "status": status}, out_dir / CHECKPOINT)
    bar.close()

    metrics = _final_metrics(model, splits, best, history, settings, status)
    metrics["n_params"] = count_parameters(model)
    frame = pd.DataFrame(history)
    write_run(out_dir, spec, metrics, frame, device_description(device), {
        "train_seconds": elapsed,
        "epoch_seconds": float(frame["epoch_time"].iloc[1:].mean()) if len(frame) > 1 else math.nan})
    return metrics


def _final_metrics(model, splits, best, history, settings, status) -> dict:
    """Test scores of the last weights and of the weights at the best validation loss."""
    last_state = copy.deepcopy(model.state_dict())
    test_loss_last, test_acc_last = evaluate(model, splits["test"])
    train_loss_last, train_acc_last = evaluate(model, splits["train"])
    model.load_state_dict(best["state"])
    test_loss_best, test_acc_best = evaluate(model, splits["test"])
    model.load_state_dict(last_state)
    use_best = settings["early_stopping"]
    final = history[-1]
    metrics = {
        "status": status,
        "epochs_run": final["epoch"],
        "best_epoch": best["epoch"],
        "train_loss": train_loss_last, "train_acc": train_acc_last,
        "val_loss": final["val_loss"], "val_acc": final["val_acc"],
        "val_acc_best": best["val_acc"],
        "test_loss_last": test_loss_last, "test_acc_last": test_acc_last,
        "test_acc_best_val": test_acc_best,
        # The score of the model this run delivers: with early stopping, the val-best weights.
        "test_loss": test_loss_best if use_best else test_loss_last,
        "test_acc": test_acc_best if use_best else test_acc_last,
    }
    metrics["gap"] = metrics["train_acc"] - metrics["test_acc_last"]
    metrics["test_acc_best_minus_last"] = test_acc_best - test_acc_last
    grad_cols = sorted((k for k in history[0] if k.startswith("grad_norm/")),
                       key=lambda k: int(k.split("/")[1]))
    if grad_cols:  # vanishing gradients: first layer vs last layer, at initialisation
        first, last = history[0][grad_cols[0]], history[0][grad_cols[-1]]
        metrics["grad_ratio_first_last_log10"] = (math.log10(first / last)
                                                  if first > 0 and last > 0 else math.nan)
    act_std = [v for k, v in final.items() if k.startswith("act_std/")]
    if act_std:  # how much the activation scale drifts across layers after training
        metrics["act_std_spread_log10"] = (math.log10(max(act_std) / min(act_std))
                                           if min(act_std) > 0 else math.nan)
    if "grad_noise" in final:
        metrics["grad_noise"] = final["grad_noise"]
    return metrics
