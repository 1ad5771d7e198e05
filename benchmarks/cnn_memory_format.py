"""CNN training steps with channels-last weights (what families/cnn.py builds) against the default
layout, through the engine's own model path (train/stack.SeedStack, a group of one as on a CPU).

    python benchmarks/cnn_memory_format.py [--steps 60] [--repeats 3]

For the cnn-vs-mlp CNN (batch 64) and DeepOBS's fmnist_2c2d network of the full profile (batch
128): forward, cross-entropy, backward and an Adam step on random images, one thread, in one
invocation; prints ms per step (best of --repeats) in each layout and the ratio.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402

MODELS = {"cnn-vs-mlp CNN (16/32, 3x3), batch 64": ({"model": "cnn"}, 64),
          "fmnist_2c2d (32/64, 5x5, dense 1024), batch 128": (
              {"model": "cnn", "channels": [32, 64], "kernel": 5, "dense": [1024],
               "init": "truncated-normal"}, 128)}


def ms_per_step(model: torch.nn.Module, batch: int, steps: int, repeats: int) -> float:
    from dlrepro.train.stack import SeedStack

    stack = SeedStack([model])
    optimizer = torch.optim.Adam(stack.params.values(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, batch, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (1, batch), generator=generator)

    def step():
        loss = F.cross_entropy(stack(x)[0], y[0])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, time.perf_counter() - tic)
    return best / steps * 1000


def main() -> None:
    from dlrepro.config import expand_runs, validate
    from dlrepro.families import get

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record under benchmarks/results/")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"ms per training step, 1 thread, best of {args.repeats} x {args.steps} steps")
    print(f"{'model':<48}{'default':>10}{'channels-last':>15}{'ratio':>8}")
    measured = {}
    for name, (settings, batch) in MODELS.items():
        config = validate({"experiments": {"cnn-vs-mlp": {"base": settings}}})
        model = get("cnn").build(expand_runs(config)[0].settings)       # channels-last
        default = ms_per_step(model.to(memory_format=torch.contiguous_format), batch, args.steps,
                              args.repeats)
        model = get("cnn").build(expand_runs(config)[0].settings)
        last = ms_per_step(model, batch, args.steps, args.repeats)
        print(f"{name:<48}{default:>10.2f}{last:>15.2f}{default / last:>7.2f}x")
        measured[name] = {"default_ms": round(default, 2), "channels_last_ms": round(last, 2)}
    if args.record:
        records.write("cnn-memory-format", {
            "summary": "; ".join(f"{name}: {m['default_ms']} → {m['channels_last_ms']} ms per step channels-last "
                                 f"({m['default_ms'] / m['channels_last_ms']:.2f}×)" for name, m in measured.items()),
            "ms_per_step": measured})


if __name__ == "__main__":
    main()
