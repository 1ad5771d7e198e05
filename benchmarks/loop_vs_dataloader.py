"""Seconds per epoch: dlrepro's training loop vs a pytorch/examples-style DataLoader loop.

Same model (MLP 784-256-256-10 by default, or the small CNN), same batch size, optimizer, device
and thread count, one epoch over the same 50,000 training images. The reference is the loop of
pytorch/examples/mnist: torchvision's FashionMNIST with ToTensor + Normalize transforms, a
shuffling DataLoader, `.item()` every log interval.

  python benchmarks/loop_vs_dataloader.py [--model mlp|cnn] [--device cpu|cuda] [--epochs 2]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from dlrepro.config import expand_runs, validate
from dlrepro.data import Split, split_fashion_mnist
from dlrepro.data.fashion_mnist import FILES, MEAN, STD, prepare, load_cache
from dlrepro.families import get
from dlrepro.train.optim import build_optimizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402


# The reference epoch of DEVELOPERS.md is defined on this loop: the engine's loop for one model
# (train/classifier.py trains a group of seeds; for one seed its arithmetic is this loop's, bit
# for bit — scripts/retrain_and_compare.py), kept here unchanged so that the unit stays the same
# over time.
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


def settings_for(model: str) -> dict:
    config = validate({"experiments": {"cnn-vs-mlp": {"base": {"model": model}}}})
    return expand_runs(config)[0].settings      # the family's defaults, filled per variant


def reference_epoch(model, optimizer, loader, device, log_interval=10):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            loss.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per loop (after 1 warm-up)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record under benchmarks/results/")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers of the reference")
    args = parser.parse_args()

    from torchvision import datasets, transforms

    device = torch.device(args.device)
    settings = settings_for(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        # torchvision reads decompressed idx files from <root>/FashionMNIST/raw.
        raw = Path(tmp) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for stem, _ in FILES.values():
            (raw / stem).write_bytes(gzip.decompress((Path(args.data_dir) / f"{stem}.gz").read_bytes()))
        prepare(args.data_dir, False, Path(tmp) / "cache.pt")
        train = split_fashion_mnist(load_cache(Path(tmp) / "cache.pt"), 0, 10000, None, None,
                                    device)["train"]
        dataset = datasets.FashionMNIST(tmp, train=True, download=False, transform=transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))]))
        dataset = torch.utils.data.Subset(dataset, range(len(train)))
        loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                                             num_workers=args.workers,
                                             pin_memory=device.type == "cuda")

        def timed(step) -> float:
            torch.manual_seed(0)
            model = get(settings["model"]).build(settings).to(device)
            optimizer = build_optimizer(settings, model.parameters())
            step(model, optimizer, 0)  # warm-up epoch
            times = []
            for epoch in range(1, args.epochs + 1):
                if device.type == "cuda":
                    torch.cuda.synchronize()
                tic = time.perf_counter()
                step(model, optimizer, epoch)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - tic)
            return min(times)

        ours = timed(lambda m, o, e: torch.stack(train_epoch(m, o, train, args.batch_size, e)).tolist())
        reference = timed(lambda m, o, e: reference_epoch(m, o, loader, device))
    result = {"model": args.model, "device": str(device), "threads": torch.get_num_threads(),
              "batch_size": args.batch_size, "train_images": len(train),
              "reference_s_per_epoch": round(reference, 3), "dlrepro_s_per_epoch": round(ours, 3),
              "speedup": round(reference / ours, 2)}
    print(json.dumps(result, indent=2))
    if args.record:
        records.write("loop-vs-dataloader", {
            "summary": f"{args.model}, batch {args.batch_size}, {device}: pytorch/examples loop {reference:.2f} s/epoch, "
                       f"dlrepro loop {ours:.2f} s/epoch ({reference / ours:.1f}×)", **result})


if __name__ == "__main__":
    main()
