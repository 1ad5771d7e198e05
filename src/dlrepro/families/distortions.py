"""image-metrics: distort test images in known ways and let the scoring stage rate each version.

Distortions (note 004 asks what PSNR, SSIM and LPIPS each see): Gaussian noise σ (clipped to
[0, 1]), Gaussian blur σ in pixels, a shift by k pixels (right and down, zeros enter: the
background is black), JPEG at a quality. Each seed draws its own images and noise. The run
writes outputs.pt with one (original, distorted) pair set per distortion and strength; the
scoring stage does the measuring, like for every other image run.
"""
from __future__ import annotations

import io
import time
import numpy as np
import torch
from PIL import Image

from dlrepro.families import Family
from dlrepro.train.seeding import derive_seed


def distort(images: torch.Tensor, kind: str, strength, generator: torch.Generator) -> torch.Tensor:
    """images: N x 1 x H x W in [0, 1] on the CPU."""
    if kind == "noise":
        return (images + strength * torch.randn(images.shape, generator=generator)).clip(0, 1)
    if kind == "blur":
        from skimage.filters import gaussian
        return torch.from_numpy(np.stack([gaussian(im[0].numpy().astype(np.float64), sigma=strength,
                                                   mode="constant", preserve_range=True)
                                          for im in images])[:, None]).float()
    if kind == "shift":
        shifted = torch.zeros_like(images)
        shifted[..., strength:, strength:] = images[..., :-strength, :-strength]
        return shifted
    if kind == "jpeg":
        out = []
        for im in images:
            buffer = io.BytesIO()
            Image.fromarray((im[0].numpy() * 255).round().astype(np.uint8)).save(
                buffer, format="JPEG", quality=int(strength))
            out.append(np.asarray(Image.open(buffer), dtype=np.float32) / 255.0)
        return torch.from_numpy(np.stack(out))[:, None]
    raise ValueError(f"unknown distortion '{kind}'")


def set_name(kind: str, strength) -> str:
    return f"{kind}={strength}"


def run(spec: dict, folder, inputs, progress: bool = False) -> dict:
    tic = time.perf_counter()
    cache = inputs.fashion_mnist()
    seed, experiment = spec["seed"], spec["experiment"]
    generator = torch.Generator().manual_seed(derive_seed(seed, experiment, "images"))
    test = cache["test_images"][:spec["data"]["test_size"]]
    pick = torch.randperm(len(test), generator=generator)[:spec["score_images"]]
    originals = test[pick].float().div(255.0)[:, None]
    pairs, grid = {}, {}
    for kind, strengths in spec["settings"]["distortions"].items():
        row = [originals[0]]
        for strength in strengths:
            distorted = distort(originals, kind, strength, generator)
            pairs[set_name(kind, strength)] = (originals, distorted)
            row.append(distorted[0])
        grid[f"original; {kind} {', '.join(map(str, strengths))}"] = row
    folder.save_outputs({"pairs": pairs, "samples": {}, "sample_labels": {},
                         "lpips_both_sizes": True,   # does the ranking depend on LPIPS' input size?
                         "figures": {"grid": {"kind": "image_rows", "rows": grid, "size": 1.0}}})
    metrics = {"status": "ok", "n_images": len(originals), "n_sets": len(pairs)}
    folder.write(spec, metrics, None, FAMILY.device_for(spec)[1],
                 {"train_seconds": time.perf_counter() - tic, "epoch_seconds": float("nan")})
    return metrics


FAMILY = Family(
    name="distortions", kind="custom", fixed_seconds=5.0, data="fashion-mnist", scored=True, run=run,
    outside_engine="nothing trains: it distorts test images for the scoring stage",
    cpu_only="PIL's JPEG and the other distortions work on CPU arrays",
    description="test images under known distortions, for the image metrics",
    settings={"distortions": {
        "description": "distortion -> strengths (noise σ, blur σ in px, shift in px, JPEG quality).",
        "type": "object", "additionalProperties": False,
        "default": {"noise": [0.05, 0.1, 0.2], "blur": [0.5, 1.0, 1.5], "shift": [1, 2],
                    "jpeg": [75, 50, 25, 10]},
        "properties": {
            "noise": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}},
            "blur": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}},
            "shift": {"type": "array", "items": {"type": "integer", "minimum": 1}},
            "jpeg": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 100}},
        }}})
