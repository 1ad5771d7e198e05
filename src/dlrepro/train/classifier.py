"""The classifier kind's steps for the engine (mlp, cnn): cross-entropy on Fashion-MNIST.

The seeds of a variant train together as one stacked model (train/stack.py): each seed keeps its
own data split, data order, initialisation and dropout masks, so its numbers are those of its
sequential run up to the order of floating-point sums; a group of one is the sequential run.

Each epoch: a pass in each seed's seeded order, then validation loss and accuracy, the configured
probes (gradient norms, activation statistics, gradient noise) and the best-on-validation
weights; early stopping when validation accuracy has not improved for `patience` epochs.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dlrepro.data import Split
from dlrepro.train import probes as probe_lib
from dlrepro.train.optim import build_optimizer
from dlrepro.train.seeding import derive_seed, seed_everything
from dlrepro.train.splits import run_splits
from dlrepro.train.stack import SeedStack, member_optimizer_state, stack_optimizer_states

EVAL_CHUNK = 256   # small chunks keep a CNN's activations in cache: benchmarks/evaluation_chunk.py
# Training loss and accuracy (epoch 0 and the end) are measured on the first 10,000 images of the
# run's training split (a random sample: the split is a seeded permutation), as DeepOBS's
# train_eval set: on all 55,000, cnn-vs-mlp's CNN spent a third of its job on these two passes.
TRAIN_EVAL = 10_000


def member_losses(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Each member's cross-entropy, [seeds]: one call per member, the sequential run's exact sum."""
    return torch.stack([F.cross_entropy(logits[i], y[i], reduction=reduction)
                        for i in range(len(logits))])


@torch.no_grad()
def evaluate(stack: SeedStack, split: Split) -> tuple[list[float], list[float]]:
    """Each member's (mean loss, accuracy) in eval mode, chunked; one host sync."""
    stack.eval()
    n = split.x.shape[1]
    loss = torch.zeros(stack.size, device=split.x.device)
    correct = torch.zeros(stack.size, device=split.x.device, dtype=torch.long)
    for start in range(0, n, EVAL_CHUNK):
        logits = stack(split.x[:, start:start + EVAL_CHUNK])
        y = split.y[:, start:start + EVAL_CHUNK]
        loss += member_losses(logits, y, "sum")
        correct += (logits.argmax(2) == y).sum(1)
    loss, correct = torch.stack([loss, correct.float()]).tolist()
    return [v / n for v in loss], [v / n for v in correct]


class ClassifierSteps:
    def __init__(self, family, specs: list[dict], cache: dict):
        self.family, self.specs, self.cache = family, specs, cache
        self.settings, self.experiment = specs[0]["settings"], specs[0]["experiment"]
        self.seeds = [spec["seed"] for spec in specs]
        self.members = len(specs)

    def prepare_data(self, device) -> None:
        """Each seed's split, stacked: [seeds, examples, ...] (the shared test set is expanded,
        not copied)."""
        per_seed = [run_splits(spec, self.cache, device) for spec in self.specs]
        self.member_train = [s["train"] for s in per_seed]      # probes take one seed's split
        self.splits = {}
        for name in ("train", "val", "test"):
            xs, ys = [s[name].x for s in per_seed], [s[name].y for s in per_seed]
            shared = all(torch.equal(x, xs[0]) for x in xs[1:]) and all(
                torch.equal(y, ys[0]) for y in ys[1:])
            self.splits[name] = Split(xs[0].expand(len(xs), *xs[0].shape) if shared else torch.stack(xs),
                                      ys[0].expand(len(ys), *ys[0].shape) if shared else torch.stack(ys))
        self.train = self.splits["train"]
        self.train_eval = Split(self.train.x[:, :TRAIN_EVAL], self.train.y[:, :TRAIN_EVAL])
        self.n_train = self.train.x.shape[1]
        size = self.settings["batch_size"]
        self.batch_size = self.n_train if size == "full" else size
        self.device = device

    def build(self, device, init_seeds: list[int]) -> None:
        models, self.generators = [], []
        for seed in init_seeds:
            seed_everything(seed)
            models.append(self.family.build(self.settings).to(device))
            # The member's own stream continues where its initialisation left the global one:
            # the stream the sequential run's dropout draws from.
            generator = torch.Generator(device)
            generator.set_state(torch.get_rng_state() if device.type == "cpu"
                                else torch.cuda.get_rng_state(device))
            self.generators.append(generator)
        self.stack = SeedStack(models)
        self.optimizer = build_optimizer(self.settings, self.stack.params.values())
        self.frozen: dict[int, dict] = {}
        self.best: list[dict | None] = [None] * self.members
        self._optimizer_states: dict[int, dict] = {}
        self.n_params = sum(p.numel() for p in models[0].parameters())

    def _probe(self, epoch: int, members) -> list[dict]:
        """Probe rows of the given members (the others get none: they stopped)."""
        rows = [{} for _ in range(self.members)]
        if not self.settings["probes"]:
            return rows
        for i in members:
            measured = probe_lib.measure(self.stack.module(i), self.settings["probes"],
                                         self.member_train[i], self.batch_size,
                                         derive_seed(self.seeds[i], self.experiment, f"probe{epoch}"))
            rows[i] = dict(zip(measured, torch.stack(list(measured.values())).tolist()))
        return rows

    def start(self) -> list[list[dict]]:
        # Epoch 0 is the untrained model: curves start where training starts.
        val_loss, val_acc = evaluate(self.stack, self.splits["val"])
        train_loss, train_acc = evaluate(self.stack, self.train_eval)
        self.best = [{"epoch": 0, "val_acc": val_acc[i], "state": self.stack.member_state(i)}
                     for i in range(self.members)]
        probes = self._probe(0, range(self.members))
        return [[{"epoch": 0, "train_loss": train_loss[i], "train_acc": train_acc[i],
                  "val_loss": val_loss[i], "val_acc": val_acc[i], "epoch_time": 0.0,
                  "elapsed": 0.0, **probes[i]}] for i in range(self.members)]

    def train_epoch(self, epoch: int) -> list[list[dict]]:
        """One pass, each member in its own seeded order."""
        stack, train, n = self.stack, self.train, self.n_train
        stack.train()
        order = torch.stack([torch.randperm(n, generator=torch.Generator().manual_seed(
            derive_seed(seed, self.experiment, f"order{epoch}"))) for seed in self.seeds])
        order = order.to(self.device)
        member = torch.arange(self.members, device=self.device)[:, None]
        loss_sum = torch.zeros(self.members, device=self.device)
        correct = torch.zeros(self.members, device=self.device, dtype=torch.long)
        for start in range(0, n, self.batch_size):
            idx = order[:, start:start + self.batch_size]
            x, y = train.x[member, idx], train.y[member, idx]
            logits = stack(x, stack.draw_masks(x, self.generators))
            losses = member_losses(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()      # each member's gradient is its own loss's
            self.optimizer.step()
            for i, state in self.frozen.items():
                stack.load_member_state(i, state)
            loss_sum += losses.detach() * idx.shape[1]
            correct += (logits.detach().argmax(2) == y).sum(1)
        loss, acc = torch.stack([loss_sum / n, correct.float() / n]).tolist()
        return [[{"epoch": epoch, "train_loss": loss[i], "train_acc": acc[i]}]
                for i in range(self.members)]

    def end_epoch(self, epoch, rows, epoch_time, elapsed):
        val_loss, val_acc = evaluate(self.stack, self.splits["val"])
        probes = self._probe(epoch, [i for i in range(self.members) if i not in self.frozen
                                     and math.isfinite(rows[i][0]["train_loss"])])
        ended = []
        for i in range(self.members):
            row = {**rows[i][0], "epoch_time": epoch_time, "elapsed": elapsed[i]}
            if not math.isfinite(row["train_loss"]):
                # a result, not a crash: the run's files are still written
                ended.append(([{**row, "val_loss": math.nan, "val_acc": math.nan}], "diverged"))
                continue
            row = {"epoch": epoch, "train_loss": row["train_loss"], "train_acc": row["train_acc"],
                   "val_loss": val_loss[i], "val_acc": val_acc[i], "epoch_time": epoch_time,
                   "elapsed": elapsed[i], **probes[i]}
            if val_acc[i] > self.best[i]["val_acc"]:  # the validation set picks the epoch
                self.best[i] = {"epoch": epoch, "val_acc": val_acc[i],
                                "state": self.stack.member_state(i)}
            stop = (self.settings["early_stopping"]
                    and epoch - self.best[i]["epoch"] >= self.settings["patience"])
            ended.append(([row], "stopped_early" if stop else "ok"))
        return ended

    def freeze(self, i: int) -> None:
        self.frozen[i] = self.stack.member_state(i)

    def member_state(self, i: int) -> dict:
        return {"model": self.stack.member_state(i),
                "optimizer": member_optimizer_state(self.optimizer.state_dict(), i),
                "best": self.best[i]}

    def load_member_state(self, i: int, state: dict) -> None:
        self.stack.load_member_state(i, state["model"])
        self.best[i] = state["best"]
        self._optimizer_states[i] = state.get("optimizer")   # None: the member had finished
        given = [s for s in self._optimizer_states.values() if s is not None]
        if len(self._optimizer_states) == self.members and given:   # every member given: stack
            # a finished member trains no more: any slice serves as its placeholder
            states = [self._optimizer_states[j] or given[0] for j in range(self.members)]
            self.optimizer.load_state_dict(stack_optimizer_states(states))

    def rng_state(self, i: int) -> dict:
        return {"dropout": self.generators[i].get_state()}

    def set_rng_state(self, i: int, state: dict) -> None:
        self.generators[i].set_state(state["dropout"])

    def finish(self, histories: list[list[dict]], statuses: list[str], folders) -> list[dict]:
        """Test scores of the last weights and of the weights at the best validation accuracy."""
        stack, splits = self.stack, self.splits
        last_states = [stack.member_state(i) for i in range(self.members)]
        test_loss_last, test_acc_last = evaluate(stack, splits["test"])
        train_loss_last, train_acc_last = evaluate(stack, self.train_eval)
        for i in range(self.members):
            stack.load_member_state(i, self.best[i]["state"])
        test_loss_best, test_acc_best = evaluate(stack, splits["test"])
        for i in range(self.members):
            stack.load_member_state(i, last_states[i])
        return [self._metrics(histories[i], statuses[i], self.best[i], train_loss_last[i],
                              train_acc_last[i], test_loss_last[i], test_acc_last[i],
                              test_loss_best[i], test_acc_best[i]) for i in range(self.members)]

    def _metrics(self, history, status, best, train_loss_last, train_acc_last, test_loss_last,
                 test_acc_last, test_loss_best, test_acc_best) -> dict:
        settings = self.settings
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
