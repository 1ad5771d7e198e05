"""Evaluation cost by chunk size: the classifiers' per-epoch validation pass (and the final test
and train passes) run in chunks of EVAL_CHUNK images (src/dlrepro/train/classifier.py).

    python benchmarks/evaluation_chunk.py [--images 10000] [--repeats 3]

Times a no-grad eval-mode pass over --images Fashion-MNIST-shaped images for the cnn-vs-mlp CNN
and the MLPs of config.yaml, one thread, at several chunk sizes, in one invocation; prints
seconds per pass (best of --repeats) and the ratio against a chunk of 4096 (the old setting).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402

CHUNKS = (4096, 1024, 256, 64)
MODELS = {"cnn (cnn-vs-mlp)": {"model": "cnn"},
          "mlp 256-256 (optimizers)": {"model": "mlp", "hidden": [256, 256]},
          "mlp 8x128 (activations)": {"model": "mlp", "hidden": [128] * 8}}


def main() -> None:
    from dlrepro.config import expand_runs, validate
    from dlrepro.families import get
    from dlrepro.train.classifier import EVAL_CHUNK

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record under benchmarks/results/")
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = torch.randn(args.images, 1, 28, 28)
    print(f"eval pass over {args.images} images, 1 thread, best of {args.repeats}; "
          f"EVAL_CHUNK is {EVAL_CHUNK}")
    print(f"{'model':<28}" + "".join(f"{c:>10}" for c in CHUNKS) + f"{'4096/' + str(EVAL_CHUNK):>12}")
    measured = {}
    for name, settings in MODELS.items():
        config = validate({"experiments": {"cnn-vs-mlp": {"base": settings}}})
        model = get(settings["model"]).build(expand_runs(config)[0].settings).eval()
        seconds = {}
        for chunk in CHUNKS:
            best = float("inf")
            for _ in range(args.repeats):
                tic = time.perf_counter()
                with torch.no_grad():
                    for start in range(0, args.images, chunk):
                        model(x[start:start + chunk])
                best = min(best, time.perf_counter() - tic)
            seconds[chunk] = best
        print(f"{name:<28}" + "".join(f"{seconds[c]:>9.3f}s" for c in CHUNKS)
              + f"{seconds[4096] / seconds.get(EVAL_CHUNK, float('nan')):>11.2f}x")
        measured[name] = {str(c): round(s, 4) for c, s in seconds.items()}
    if args.record:
        records.write("evaluation-chunk", {
            "summary": "; ".join(f"{name}: {s['4096']:.2f} s in chunks of 4,096, {s[str(EVAL_CHUNK)]:.2f} s in chunks of "
                                 f"{EVAL_CHUNK} ({s['4096'] / s[str(EVAL_CHUNK)]:.1f}×)" for name, s in measured.items()),
            "seconds": measured, "images": args.images})


if __name__ == "__main__":
    main()
