"""PSNR + SSIM over N image pairs: our batched torch implementation vs scikit-image's loop.

    python benchmarks/image_metrics_speed.py [--pairs 10000] [--device cpu|cuda]

Both score the same pairs (Fashion-MNIST test images and noisy copies when the prepared data
exists, else random images); the script checks that the results agree (max |difference|) and
prints times and speed-up ratios measured in this one invocation.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from dlrepro.metrics import image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402


def pairs(n: int, data: Path) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    if data.exists():
        from dlrepro.data.fashion_mnist import load_cache
        x = load_cache(data)["test_images"].float().div(255)[:, None]
        x = x[torch.arange(n) % len(x)]
    else:
        x = torch.rand(n, 1, 28, 28, generator=g)
    return x, (x + 0.1 * torch.randn(x.shape, generator=g)).clip(0, 1)


def timed(function, repeats: int = 3) -> tuple[float, object]:
    """(best seconds of `repeats` calls, by torch.utils.benchmark's Timer; the result)."""
    from torch.utils.benchmark import Timer

    timer = Timer(stmt="function()", globals={"function": function})
    return min(timer.timeit(1).mean for _ in range(repeats)), function()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=10000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", type=Path, default=Path("results/data/fashion-mnist.pt"))
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record under benchmarks/results/")
    args = parser.parse_args()
    x, y = pairs(args.pairs, args.data)
    print(f"{args.pairs} pairs of {tuple(x.shape[1:])} images; torch threads {torch.get_num_threads()}")

    t_psnr_ref, psnr_ref = timed(lambda: image.psnr_skimage(x, y), repeats=1)
    t_ssim_ref, ssim_ref = timed(lambda: image.ssim_skimage(x, y), repeats=1)
    xd, yd = x.to(args.device), y.to(args.device)

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    rows = [("scikit-image loop", t_psnr_ref, t_ssim_ref, 0.0, 0.0)]
    for dtype in (torch.float64, torch.float32):
        image.ssim(xd[:10], yd[:10], dtype=dtype)  # warm-up
        t_psnr, psnr = timed(lambda: (image.psnr(xd, yd), sync())[0])
        t_ssim, ssim = timed(lambda: (image.ssim(xd, yd, dtype=dtype), sync())[0])
        rows.append((f"batched torch {str(dtype)[6:]} ({args.device})", t_psnr, t_ssim,
                     float(np.abs(psnr.cpu().numpy() - psnr_ref).max()),
                     float(np.abs(ssim.cpu().numpy() - ssim_ref).max())))
    print(f"{'implementation':34} {'PSNR s':>8} {'SSIM s':>8} {'PSNR ×':>7} {'SSIM ×':>7} "
          f"{'both ×':>7} {'max|ΔPSNR|':>11} {'max|ΔSSIM|':>11}")
    for name, tp, ts, dp, ds in rows:
        print(f"{name:34} {tp:8.3f} {ts:8.3f} {t_psnr_ref / tp:7.1f} {t_ssim_ref / ts:7.1f} "
              f"{(t_psnr_ref + t_ssim_ref) / (tp + ts):7.1f} {dp:11.2e} {ds:11.2e}")
    if args.record:
        _, tp, ts, dp, ds = rows[-1]   # float32, the scoring stage's dtype
        records.write("image-metrics-speed", {
            "summary": f"{args.pairs:,} pairs on {args.device}: SSIM {ts:.3f} s batched float32 vs {t_ssim_ref:.3f} s "
                       f"scikit-image ({t_ssim_ref / ts:.1f}×, max |Δ| {ds:.0e}); PSNR {tp:.3f} s vs {t_psnr_ref:.3f} s "
                       f"({t_psnr_ref / tp:.1f}×, max |Δ| {dp:.0e})",
            "rows": [dict(zip(["implementation", "psnr_s", "ssim_s", "max_abs_psnr_diff", "max_abs_ssim_diff"], r))
                     for r in rows]})


if __name__ == "__main__":
    main()
