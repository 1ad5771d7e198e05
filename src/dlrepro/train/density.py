"""The density kind's steps for the engine (bernoulli, fvsbn, nade, pixelcnn, vae-density).

A density family's model (its FAMILY.build) is an nn.Module with:
  nll(x) -> per-image −log p(x) in nats, x: N x 1 x 28 x 28 of 0/1 (the VAE: −ELBO, a bound);
            training minimises its mean with Adam
  sample(n, generator) -> n x 1 x 28 x 28 of 0/1, drawn pixel by pixel
  init_output_bias(logits)   start the per-pixel output biases at the training set's marginals
  estimates(x, generator) -> {name: per-image −log p̂(x)}   optional (the VAE's importance-
                             weighted estimates)

Every model is scored the same way at the end: test NLL (nats and bits per dimension), and
−log p(x) as an anomaly score on the other data set's test images (AUROC), raw and relative to
the independent-pixel model fitted in closed form to the same training images (a likelihood
ratio against a simple background model, after Serrà et al. 2020's complexity correction).
"""
from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn.functional as F

from dlrepro.data.binarised import DATASETS, PIXELS, TEST_IMAGES, TRAIN_IMAGES, unpack
from dlrepro.metrics.stats import auroc
from dlrepro.train.seeding import derive_seed
from dlrepro.train.work import Work

EVAL_BATCH = 1000
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def independent_logits(train: torch.Tensor) -> torch.Tensor:
    """Per-pixel logits of the independent Bernoulli model fitted to `train` (Laplace-smoothed
    maximum likelihood: a pixel never on in training still gets a finite probability)."""
    p = (train.flatten(1).sum(0) + 1) / (len(train) + 2)
    return torch.logit(p)


def as_images(pixels: torch.Tensor) -> torch.Tensor:
    """(n, side²) pixel rows -> (n, 1, side, side) images (28 x 28 for MNIST)."""
    side = math.isqrt(pixels.shape[1])
    return pixels.reshape(len(pixels), 1, side, side)


def independent_nll(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Per-image −log p(x) under independent pixels with these logits (the bernoulli family's
    likelihood, and the background model of the likelihood ratio)."""
    return F.binary_cross_entropy_with_logits(logits.expand(len(x), -1), x.flatten(1),
                                              reduction="none").sum(1)


class DensitySteps:
    def __init__(self, family, spec: dict, cache: dict):
        self.family, self.spec, self.cache = family, spec, cache
        self.settings, self.seed, self.experiment = spec["settings"], spec["seed"], spec["experiment"]

    def prepare_data(self, device) -> None:
        name = self.settings["dataset"]
        data = self.cache[name]
        train = unpack(data["train"])
        if self.settings["train_size"] is not None:   # a seeded subset: each seed sees its own
            pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(
                derive_seed(self.seed, self.experiment, "split")))
            train = train[pick[:self.settings["train_size"]]]
        self.train = train.to(device)
        self.val = unpack(data["val"])[:self.settings["val_images"]].to(device)
        test_size = self.settings["test_images"]
        self.test = unpack(data["test"])[:test_size].to(device)
        self.other = next(d for d in DATASETS if d != name)
        self.ood = unpack(self.cache[self.other]["test"])[:test_size].to(device)
        self.background = independent_logits(self.train)
        self.batch_size = self.settings["batch_size"]
        self.steps_per_epoch = math.ceil(len(self.train) / self.batch_size)
        self.device = device

    def build(self, device) -> None:
        self.model = self.family.build(self.settings).to(device)
        self.model.init_output_bias(self.background)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.settings["lr"])

    @torch.no_grad()
    def nll(self, x: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        result = torch.cat([self.model.nll(x[i:i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])
        self.model.train()
        return result

    def start(self) -> list[dict]:
        return [{"epoch": 0.0, "val_nll": self.nll(self.val).mean().item()}]

    def train_epoch(self, epoch: int) -> list[dict]:
        order = torch.randperm(len(self.train), generator=torch.Generator().manual_seed(
            derive_seed(self.seed, self.experiment, f"order{epoch}"))).to(self.device)
        losses = []
        for step in range(self.steps_per_epoch):
            loss = self.model.nll(self.train[order[step * self.batch_size:(step + 1) * self.batch_size]]).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        return [{"epoch": float(epoch), "train_nll": torch.stack(losses).mean().item()}]

    def end_epoch(self, epoch, rows, epoch_time, elapsed):
        rows[-1].update(val_nll=self.nll(self.val).mean().item(), epoch_time=epoch_time, elapsed=elapsed)
        finite = all(math.isfinite(row[k]) for row in rows for k in ("train_nll", "val_nll"))
        return rows, "ok" if finite else "diverged"

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        if "optimizer" in state:          # absent once the run has finished
            self.optimizer.load_state_dict(state["optimizer"])

    @torch.no_grad()
    def finish(self, history: list[dict], status: str, folder) -> dict:
        frame = pd.DataFrame(history)
        metrics = {"status": status, "epochs_run": int(frame["epoch"].max())}
        test, ood = self.nll(self.test), self.nll(self.ood)
        if not (torch.isfinite(test).all() and torch.isfinite(ood).all()):
            folder.save_outputs({"figures": {}})      # the rule's output, empty: nothing to draw
            return {**metrics, "status": "diverged"}
        # −log p relative to the independent-pixel model: a log likelihood ratio per image
        test_ratio = test - independent_nll(self.test, self.background)
        ood_ratio = ood - independent_nll(self.ood, self.background)
        metrics.update(
            test_nll=test.mean().item(), test_nll_se=(test.std() / math.sqrt(len(test))).item(),
            test_bits_per_dim=test.mean().item() / (PIXELS * math.log(2)),
            ood_nll=ood.mean().item(),
            ood_auroc=auroc(test.cpu().numpy(), ood.cpu().numpy()),
            ood_auroc_ratio=auroc(test_ratio.cpu().numpy(), ood_ratio.cpu().numpy()),
            final_train_nll=float(frame["train_nll"].dropna().iloc[-1]),
            final_val_nll=float(frame["val_nll"].dropna().iloc[-1]))
        figures = self._figures(test, ood, test_ratio, ood_ratio)
        estimates = getattr(self.model, "estimates", None)
        if estimates is not None:
            n = self.settings["iw_images"]
            generator = torch.Generator().manual_seed(derive_seed(self.seed, self.experiment, "iw"))
            self.model.eval()
            curve = {k: v.mean().item() for k, v in estimates(self.test[:n], generator).items()}
            metrics.update({f"nll_{k}": v for k, v in curve.items()})
            figures["bound"] = {"kind": "lines", "x": self.settings["iw_samples"],
                                "series": {"−log p̂(x), importance-weighted": list(curve.values())},
                                "xlabel": "importance samples k (k = 1: the ELBO)",
                                "ylabel": f"nats (mean of {min(n, len(self.test))} test images)",
                                "logx": True}
        folder.save_outputs({"figures": figures})
        return metrics

    def _figures(self, test, ood, test_ratio, ood_ratio) -> dict:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.experiment, "samples"))
        self.model.eval()
        samples = self.model.sample(self.settings["samples"], generator).cpu()
        n = len(samples)
        inside, outside = DATASET_NAMES[self.settings["dataset"]], DATASET_NAMES[self.other]
        return {"samples": {"kind": "image_rows",
                            "rows": {"samples": samples, f"{inside} test": self.test[:n].cpu()}},
                "ood": {"kind": "histograms", "xlabel": "nats", "panels": {
                    "−log p(x)": {f"{inside} test (in)": test.cpu(), f"{outside} test (out)": ood.cpu()},
                    "−log p(x) + log p_independent(x)": {f"{inside} test (in)": test_ratio.cpu(),
                                                         f"{outside} test (out)": ood_ratio.cpu()}}}}


def plan_work(sampled=None):
    """A density family's plan_work (dlrepro.plan): epochs over the binarised training split,
    the validation images scored before training and after each epoch, the test images of both
    data sets scored once; `sampled(settings)` counts other forward work in images (sampling
    pixel by pixel, importance samples)."""
    def work(s: dict, data: dict) -> Work:
        train = s["train_size"] or TRAIN_IMAGES
        scored = s["val_images"] * (s["epochs"] + 1) + 2 * (s["test_images"] or TEST_IMAGES)
        return Work(s["epochs"] * math.ceil(train / s["batch_size"]), s["batch_size"],
                    scored + (sampled(s) if sampled else 0))
    return work
