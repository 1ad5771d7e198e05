"""The generative kind's steps for the engine (autoencoder, VAE, GANs and the next image models).

A generative family's model (its FAMILY.build) is an nn.Module with four methods:
  make_optimizers() -> {name: optimizer}
  train_step(x, y, optimizers) -> {name: detached scalar}     one update on a batch
  evaluate(x, y, generator) -> {name: scalar}                 test losses (may be empty)
  outputs(x, y, train_x, generator) -> {pairs, samples, sample_labels?, reference_sets?, grid,
                                         codes, decode, prior_codes?}   (reference_sets: sample
                                         sets that are not generated; prior_codes: drawn behind
                                         the codes)
and may have two more:
  training_examples(split) -> split                           what train_step's batches are drawn
                                                              from (default: the training split)
  start_epoch(epoch, optimizers)                              before each epoch (e.g. lr schedules)
Its FAMILY.derived_metrics reads its own claims' numbers off the history (e.g. the VAE's KL).

The run folder gets outputs.pt: the image pairs and sample sets the scoring stage rates, and the
data of the report's figures (image grid, latent codes, decoded interpolations). Figures are
drawn at report time, not here.
"""
from __future__ import annotations

import math

import pandas as pd
import torch

from dlrepro.data.fashion_mnist import CLASSES
from dlrepro.train.seeding import derive_seed
from dlrepro.train.splits import run_splits


def _mean_logs(logs: list[dict]) -> dict:
    """Mean of each logged scalar over steps: one host sync for the whole chunk."""
    if not logs:
        return {}
    names = list(logs[0])
    means = torch.stack([torch.stack([log[n] for log in logs]).mean() for n in names]).tolist()
    return dict(zip(names, means))


class GenerativeSteps:
    def __init__(self, family, spec: dict, cache: dict):
        self.family, self.spec, self.cache = family, spec, cache
        self.settings, self.seed, self.experiment = spec["settings"], spec["seed"], spec["experiment"]

    def prepare_data(self, device) -> None:
        splits = run_splits(self.spec, self.cache, device, standardise=False)
        self.train, self.test = splits["train"], splits["test"]
        self.device = device

    def build(self, device) -> None:
        self.model = self.family.build(self.settings).to(device)
        self.optimizers = self.model.make_optimizers()
        examples = getattr(self.model, "training_examples", None)
        self.examples = examples(self.train) if examples else self.train
        self.batch_size = self.settings["batch_size"]
        self.steps_per_epoch = math.ceil(len(self.examples) / self.batch_size)
        self.log_every = max(1, self.steps_per_epoch // self.settings["logs_per_epoch"])

    def _evaluate(self, epoch: int) -> dict:
        self.model.eval()
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.experiment, f"eval{epoch}"))
        result = {f"test_{k}": v for k, v in self.model.evaluate(self.test.x, self.test.y, generator).items()}
        self.model.train()
        return dict(zip(result, torch.stack(list(result.values())).tolist())) if result else {}

    def start(self) -> list[dict]:
        return [{"epoch": 0.0, **self._evaluate(0)}]

    def train_epoch(self, epoch: int) -> list[dict]:
        self.model.train()
        if hasattr(self.model, "start_epoch"):
            self.model.start_epoch(epoch, self.optimizers)
        order = torch.randperm(len(self.examples), generator=torch.Generator().manual_seed(
            derive_seed(self.seed, self.experiment, f"order{epoch}"))).to(self.device)
        logs, rows = [], []
        for step in range(self.steps_per_epoch):
            idx = order[step * self.batch_size:(step + 1) * self.batch_size]
            logs.append(self.model.train_step(self.examples.x[idx], self.examples.y[idx],
                                              self.optimizers))
            if (step + 1) % self.log_every == 0 or step + 1 == self.steps_per_epoch:
                # Several points per epoch: the GAN's early dynamics happen within epoch 1.
                rows.append({"epoch": epoch - 1 + (step + 1) / self.steps_per_epoch,
                             **{f"train_{k}": v for k, v in _mean_logs(logs).items()}})
                logs = []
        return rows

    def end_epoch(self, epoch, rows, epoch_time, elapsed):
        rows[-1].update(self._evaluate(epoch), epoch_time=epoch_time, elapsed=elapsed)
        losses = [v for row in rows for k, v in row.items() if k.startswith(("train_", "test_"))]
        return rows, "ok" if all(math.isfinite(v) for v in losses) else "diverged"

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        for name, optimizer in self.optimizers.items():
            if "optimizers" in state:        # absent once the run has finished
                optimizer.load_state_dict(state["optimizers"][name])

    @torch.no_grad()
    def finish(self, history: list[dict], status: str, folder) -> dict:
        self.model.eval()
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.experiment, "outputs"))
        n = min(self.spec["score_images"], len(self.test))
        labels = self.test.y[:n]
        outputs = self.model.outputs(self.test.x[:n], labels, self.train.x[:n], generator)
        folder.save_outputs(_outputs_file(outputs, labels))
        frame = pd.DataFrame(history)
        metrics = {"status": status, "epochs_run": int(frame["epoch"].max())}
        final = frame.iloc[-1]
        for column in frame.columns:   # the curves' last values
            if column.startswith(("train_", "test_")) and pd.notna(final[column]):
                metrics[f"final_{column}"] = float(final[column])
        if self.family.derived_metrics:
            metrics.update(self.family.derived_metrics(frame))
        return metrics


def _outputs_file(outputs: dict, labels) -> dict:
    """outputs.pt: scoring's pairs and samples, and the report's figure data (on the CPU)."""
    figures = {"grid": {"kind": "image_rows",
                        "rows": {k: v.cpu() for k, v in outputs["grid"].items()}}}
    codes, decode = outputs.get("codes"), outputs.get("decode")
    if codes is not None and codes.shape[1] == 2:
        figures["latent"] = {"kind": "latent_scatter", "codes": codes.cpu(), "labels": labels.cpu()}
        if outputs.get("prior_codes") is not None:
            figures["latent"]["background"] = outputs["prior_codes"].cpu()
    if codes is not None:
        figures["interpolation"] = {"kind": "image_rows", "rows": _interpolations(codes, labels, decode)}
    return {"pairs": {k: (a.cpu(), b.cpu()) for k, (a, b) in outputs["pairs"].items()},
            "samples": {k: v.cpu() for k, v in outputs["samples"].items()},
            "sample_labels": {k: v.cpu() for k, v in outputs.get("sample_labels", {}).items()},
            "reference_sets": list(outputs.get("reference_sets", [])),
            "figures": figures}


@torch.no_grad()
def _interpolations(codes, labels, decode, steps: int = 10) -> dict:
    """Straight lines in latent space between test images of different classes, decoded."""
    rows = {}
    for a, b in ((0, 1), (2, 5), (7, 9)):
        start = codes[(labels == a).nonzero()[0, 0]]
        end = codes[(labels == b).nonzero()[0, 0]]
        t = torch.linspace(0, 1, steps, device=codes.device)[:, None]
        rows[f"{CLASSES[a]} → {CLASSES[b]}"] = decode(start + t * (end - start)).cpu()
    return rows
