"""The one training loop for the image generative families (autoencoder, VAE, GANs).

A family is an nn.Module with four methods (see models/autoencoder.py, vae.py, gan.py):
  make_optimizers() -> {name: optimizer}
  train_step(x, y, optimizers) -> {name: detached scalar}     one update on a batch
  evaluate(x, y, generator) -> {name: scalar}                 test losses (may be empty)
  outputs(x, y, train_x, generator) -> {...}                  what scoring and the report need

The habits of the classifier loop hold here too: data as one tensor, seeded order, derived
seeds, deterministic algorithms, a checkpoint per epoch to resume from, a diverged run written
as a result. The run folder gets outputs.pt (image pairs and sample sets for the scoring stage)
and figure_*.png (image grids, latent scatter and interpolations for the report).
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from dlrepro.config import stable_hash
from dlrepro.data import run_splits
from dlrepro.data.fashion_mnist import CLASSES
from dlrepro.io import atomic_torch_save, atomic_write_bytes
from dlrepro.models import count_parameters
from dlrepro.provenance import device_description
from dlrepro.runfiles import write_run
from dlrepro.train import gpu_slots
from dlrepro.train.loop import CHECKPOINT, load_checkpoint
from dlrepro.train.seeding import (derive_seed, enable_determinism, resolve_device, rng_state,
                                   seed_everything, set_rng_state)

OUTPUTS = "outputs.pt"


def build_family(settings: dict) -> torch.nn.Module:
    from dlrepro.models.autoencoder import Autoencoder
    from dlrepro.models.gan import GAN
    from dlrepro.models.vae import VAE

    return {"ae": Autoencoder, "vae": VAE, "gan": GAN}[settings["model"]](settings)


def train_generative(spec: dict, out_dir: str | Path, cache: dict, progress: bool = True,
                     slots_per_gpu: int = 1, score_images: int = 1000) -> dict:
    enable_determinism()
    torch.set_num_threads(spec.get("threads", 1))
    with gpu_slots.claim(resolve_device(spec["device"]), slots_per_gpu) as device:
        return _train(spec, Path(out_dir), cache, device, progress, score_images)


def _mean_logs(logs: list[dict]) -> dict:
    """Mean of each logged scalar over steps: one host sync for the whole chunk."""
    if not logs:
        return {}
    names = list(logs[0])
    means = torch.stack([torch.stack([log[n] for log in logs]).mean() for n in names]).tolist()
    return dict(zip(names, means))


def _train(spec, out_dir: Path, cache, device, progress, score_images) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    settings, seed, experiment = spec["settings"], spec["seed"], spec["experiment"]
    spec_hash = stable_hash(spec)
    splits = run_splits(spec, cache, device, standardise=False)
    train, test = splits["train"], splits["test"]
    batch_size = settings["batch_size"]
    steps_per_epoch = math.ceil(len(train) / batch_size)
    log_every = max(1, steps_per_epoch // settings["logs_per_epoch"])

    seed_everything(derive_seed(seed, experiment, "init"))
    model = build_family(settings).to(device)
    optimizers = model.make_optimizers()

    def evaluate(epoch: int) -> dict:
        model.eval()
        generator = torch.Generator().manual_seed(derive_seed(seed, experiment, f"eval{epoch}"))
        result = {f"test_{k}": v for k, v in model.evaluate(test.x, test.y, generator).items()}
        model.train()
        return dict(zip(result, torch.stack(list(result.values())).tolist())) if result else {}

    checkpoint = load_checkpoint(out_dir / CHECKPOINT, spec_hash)
    if checkpoint:
        model.load_state_dict(checkpoint["model"])
        for name, optimizer in optimizers.items():
            optimizer.load_state_dict(checkpoint["optimizers"][name])
        set_rng_state(checkpoint["rng"])
        history, status = checkpoint["history"], checkpoint["status"]
        start_epoch, elapsed = checkpoint["epoch"] + 1, checkpoint["elapsed"]
        print(f"[dlrepro] resuming {out_dir} after epoch {checkpoint['epoch']}", file=sys.stderr)
    else:
        history, status, start_epoch, elapsed = [{"epoch": 0.0, **evaluate(0)}], "ok", 1, 0.0

    bar = tqdm(range(start_epoch, settings["epochs"] + 1), file=sys.stderr, ascii=True,
               desc=f"{experiment}/{spec['variant']}/seed{seed}", disable=not progress,
               mininterval=0)
    model.train()
    for epoch in bar:
        if status != "ok":
            break
        tic = time.perf_counter()
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(
            derive_seed(seed, experiment, f"order{epoch}"))).to(device)
        logs, rows = [], []
        for step in range(steps_per_epoch):
            idx = order[step * batch_size:(step + 1) * batch_size]
            logs.append(model.train_step(train.x[idx], train.y[idx], optimizers))
            if (step + 1) % log_every == 0 or step + 1 == steps_per_epoch:
                # Several points per epoch: the GAN's early dynamics happen within epoch 1.
                rows.append({"epoch": epoch - 1 + (step + 1) / steps_per_epoch,
                             **{f"train_{k}": v for k, v in _mean_logs(logs).items()}})
                logs = []
        if device.type == "cuda":
            torch.cuda.synchronize()
        epoch_time = time.perf_counter() - tic
        elapsed += epoch_time
        rows[-1].update(evaluate(epoch), epoch_time=epoch_time, elapsed=elapsed)
        history.extend(rows)
        losses = [v for row in rows for k, v in row.items() if k.startswith(("train_", "test_"))]
        if not all(math.isfinite(v) for v in losses):
            status = "diverged"
        bar.set_postfix({k: f"{v:.3g}" for k, v in rows[-1].items() if k.startswith("train_")},
                        refresh=False)
        atomic_torch_save({"spec_hash": spec_hash, "epoch": epoch, "model": model.state_dict(),
                           "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                           "rng": rng_state(), "history": history, "elapsed": elapsed,
                           "status": status}, out_dir / CHECKPOINT)
    bar.close()

    model.eval()
    generator = torch.Generator().manual_seed(derive_seed(seed, experiment, "outputs"))
    n = min(score_images, len(test))
    outputs = model.outputs(test.x[:n], test.y[:n], train.x[:n], generator)
    _write_outputs(out_dir, outputs, test.y[:n], settings)
    frame = pd.DataFrame(history)
    metrics = {"status": status, "epochs_run": int(frame["epoch"].max()),
               "n_params": count_parameters(model), **_curve_metrics(frame)}
    write_run(out_dir, spec, metrics, frame, device_description(device),
              {"train_seconds": elapsed,
               "epoch_seconds": float(frame["epoch_time"].dropna().mean())
               if "epoch_time" in frame else math.nan})
    return metrics


def _curve_metrics(frame: pd.DataFrame) -> dict:
    """Numbers the claims are checked on, read off the curves."""
    metrics = {}
    final = frame.iloc[-1]
    for column in frame.columns:
        if column.startswith(("train_", "test_")) and pd.notna(final[column]):
            metrics[f"final_{column}"] = float(final[column])
    if "test_kl" in frame:  # VAE: KL rises from ~0 at initialisation, then settles
        kl = frame["test_kl"].dropna().to_numpy()
        metrics["kl_rise"] = float(kl[-1] - kl[0])
        if len(kl) >= 3:
            metrics["kl_last_epoch_change"] = float(abs(kl[-1] - kl[-2]) / abs(kl[-1]))
    if "train_d_loss" in frame:  # GAN: first logged chunk vs the end of epoch 1
        early = frame[(frame["epoch"] > 0) & (frame["epoch"] <= 1)]
        if len(early) >= 2:
            metrics["d_loss_early_change"] = float(early["train_d_loss"].iloc[-1]
                                                   - early["train_d_loss"].iloc[0])
            metrics["g_loss_early_change"] = float(early["train_g_loss"].iloc[-1]
                                                   - early["train_g_loss"].iloc[0])
    return metrics


def _write_outputs(out_dir: Path, outputs: dict, labels, settings) -> None:
    from dlrepro.report import plots

    cpu = {"pairs": {k: (a.cpu(), b.cpu()) for k, (a, b) in outputs["pairs"].items()},
           "samples": {k: v.cpu() for k, v in outputs["samples"].items()},
           "sample_labels": {k: v.cpu() for k, v in outputs.get("sample_labels", {}).items()}}
    atomic_torch_save(cpu, out_dir / OUTPUTS)
    figures = {"grid": plots.image_rows({k: v.cpu() for k, v in outputs["grid"].items()})}
    codes, decode = outputs.get("codes"), outputs.get("decode")
    if codes is not None and codes.shape[1] == 2:
        figures["latent"] = plots.latent_scatter(codes.cpu(), labels.cpu())
    if codes is not None:
        figures["interpolation"] = plots.image_rows(_interpolations(codes, labels, decode))
    for name, png in figures.items():
        atomic_write_bytes(out_dir / f"figure_{name}.png", png)


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
