"""The classifier kind's steps for the engine (mlp, cnn): cross-entropy on Fashion-MNIST.

Each epoch: a pass in a seeded order, then validation loss and accuracy, the configured probes
(gradient norms, activation statistics, gradient noise) and the best-on-validation weights;
early stopping when validation accuracy has not improved for `patience` epochs.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from dlrepro.data import Split
from dlrepro.train import probes as probe_lib
from dlrepro.train.optim import build_optimizer
from dlrepro.train.seeding import derive_seed
from dlrepro.train.splits import run_splits

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


class ClassifierSteps:
    def __init__(self, family, spec: dict, cache: dict):
        self.family, self.spec, self.cache = family, spec, cache
        self.settings, self.seed, self.experiment = spec["settings"], spec["seed"], spec["experiment"]

    def prepare_data(self, device) -> None:
        self.splits = run_splits(self.spec, self.cache, device)
        self.train = self.splits["train"]
        size = self.settings["batch_size"]
        self.batch_size = len(self.train) if size == "full" else size

    def build(self, device) -> None:
        self.model = self.family.build(self.settings).to(device)
        self.optimizer = build_optimizer(self.settings, self.model.parameters())

    def _probe(self, epoch: int) -> dict:
        measured = probe_lib.measure(self.model, self.settings["probes"], self.train,
                                     self.batch_size,
                                     derive_seed(self.seed, self.experiment, f"probe{epoch}"))
        return dict(zip(measured, torch.stack(list(measured.values())).tolist())) if measured else {}

    def start(self) -> list[dict]:
        # Epoch 0 is the untrained model: curves start where training starts.
        val_loss, val_acc = evaluate(self.model, self.splits["val"])
        train_loss, train_acc = evaluate(self.model, self.train)
        self.best = {"epoch": 0, "val_acc": val_acc, "state": copy.deepcopy(self.model.state_dict())}
        return [{"epoch": 0, "train_loss": train_loss, "train_acc": train_acc,
                 "val_loss": val_loss, "val_acc": val_acc, "epoch_time": 0.0, "elapsed": 0.0,
                 **self._probe(0)}]

    def train_epoch(self, epoch: int) -> list[dict]:
        loss, acc = train_epoch(self.model, self.optimizer, self.train, self.batch_size,
                                derive_seed(self.seed, self.experiment, f"order{epoch}"))
        loss, acc = torch.stack([loss, acc]).tolist()
        return [{"epoch": epoch, "train_loss": loss, "train_acc": acc}]

    def end_epoch(self, epoch, rows, epoch_time, elapsed):
        row = {**rows[0], "epoch_time": epoch_time, "elapsed": elapsed}
        if not math.isfinite(row["train_loss"]):
            # a result, not a crash: the run's files are still written
            return [{**row, "val_loss": math.nan, "val_acc": math.nan}], "diverged"
        val_loss, val_acc = evaluate(self.model, self.splits["val"])
        row = {"epoch": epoch, "train_loss": row["train_loss"], "train_acc": row["train_acc"],
               "val_loss": val_loss, "val_acc": val_acc, "epoch_time": epoch_time,
               "elapsed": elapsed, **self._probe(epoch)}
        if val_acc > self.best["val_acc"]:  # the validation set picks the epoch
            self.best = {"epoch": epoch, "val_acc": val_acc,
                         "state": copy.deepcopy(self.model.state_dict())}
        stop = self.settings["early_stopping"] and epoch - self.best["epoch"] >= self.settings["patience"]
        return [row], "stopped_early" if stop else "ok"

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.best = state["best"]

    def finish(self, history: list[dict], status: str, folder) -> dict:
        """Test scores of the last weights and of the weights at the best validation accuracy."""
        model, splits, best, settings = self.model, self.splits, self.best, self.settings
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
