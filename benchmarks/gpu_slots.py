"""Throughput of K concurrent training processes sharing one GPU, for K in 1, 2, 4, 8.

Each process trains the same small CNN run (different seeds) through `dlrepro train`, claiming a
GPU slot as the DAG's jobs do. Throughput = runs finished per second; the figure that matters is
its ratio to K = 1, and the best K is the default `slots_per_gpu` for GPU profiles.

  python benchmarks/gpu_slots.py                 # needs a CUDA device
  python benchmarks/gpu_slots.py --device cpu --slots 1 2 --epochs 1 --train-size 2000  # dry run
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlrepro.config import expand_runs, validate


def specs(count: int, device: str, epochs: int, train_size: int) -> list[dict]:
    config = validate({"device": device, "seeds": list(range(count)), "experiments": {
        "cnn-vs-mlp": {"base": {"model": "cnn", "epochs": epochs, "train_size": train_size,
                                "batch_size": 64, "lr": 0.05}}}})
    return [run.spec(config) for run in expand_runs(config)]


def measure(k: int, args, data: Path) -> float:
    """Seconds for 2*k runs with k processes at a time, k slots on the GPU."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DLREPRO_GPU_LOCK_DIR": str(Path(tmp) / "locks")}
        runs = specs(2 * k, args.device, args.epochs, args.train_size)
        tic = time.perf_counter()
        waves = [runs[:k], runs[k:]]
        for wave in waves:
            procs = [subprocess.Popen(
                [sys.executable, "-m", "dlrepro.cli", "train", "--spec", json.dumps(spec),
                 "--out", f"{tmp}/run{spec['seed']}", "--data", str(data), "--quiet",
                 "--gpu-slots", str(k)], env=env) for spec in wave]
            for proc in procs:
                if proc.wait() != 0:
                    raise SystemExit("a training process failed")
        return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--data", default="results/data/fashion-mnist.pt",
                        help="prepared data (`snakemake prefetch` makes it)")
    args = parser.parse_args()
    results = {}
    for k in args.slots:
        seconds = measure(k, args, Path(args.data))
        results[k] = 2 * k / seconds
        print(f"slots={k}: {2 * k} runs in {seconds:.1f} s, {results[k]:.3f} runs/s", flush=True)
    base = results[args.slots[0]]
    print(json.dumps({"device": args.device, "runs_per_s": results,
                      "ratio_to_first": {k: round(v / base, 2) for k, v in results.items()},
                      "best_slots": max(results, key=results.get)}, indent=2))


if __name__ == "__main__":
    main()
