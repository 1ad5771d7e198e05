"""LPIPS (Zhang et al. 2018) through the `lpips` package, with its backbone weights kept offline.

The package ships its linear heads; the AlexNet backbone comes from torchvision, which downloads
it into $TORCH_HOME/hub/checkpoints on first use. Compute nodes are often offline, so the weights
are fetched once (`dlrepro fetch-weights`, run by `snakemake prefetch`) into the project's
torch_home, and every job points TORCH_HOME there. Missing weights make LPIPS *unavailable*
(reported as such); they are never replaced by random ones.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"   # torchvision names files by their SHA-256 prefix
ALEXNET_SHA256_PREFIX = "7be5be79"
FETCH_COMMAND = "snakemake prefetch   (or: dlrepro fetch-weights --torch-home {torch_home})"


class WeightsMissing(RuntimeError):
    """LPIPS was required but its backbone weights are not under torch_home."""


def weights_path(torch_home: str | Path) -> Path:
    return Path(torch_home) / "hub" / "checkpoints" / ALEXNET_FILE


@dataclass
class LpipsStatus:
    available: bool
    file: str
    sha256: str = ""
    official: bool = False     # the SHA-256 matches torchvision's published prefix
    message: str = ""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def status(torch_home: str | Path, mode: str = "auto") -> LpipsStatus:
    path = weights_path(torch_home).resolve()
    if mode == "off":
        return LpipsStatus(False, str(path), message="LPIPS is off (metrics.lpips: off).")
    if not path.exists():
        message = (f"LPIPS unavailable: the AlexNet weights {path} are missing. Fetch them once "
                   f"on a machine with internet: " + FETCH_COMMAND.format(torch_home=torch_home))
        if mode == "required":
            raise WeightsMissing(message + " (metrics.lpips is 'required'; set it to 'auto' to "
                                 "run without LPIPS).")
        return LpipsStatus(False, str(path), message=message)
    digest = sha256(path)
    official = digest.startswith(ALEXNET_SHA256_PREFIX)
    note = "" if official else (f" Warning: {path} is not torchvision's published file "
                                f"(SHA-256 {digest[:12]}…, expected {ALEXNET_SHA256_PREFIX}…).")
    return LpipsStatus(True, str(path), digest, official, ("LPIPS (AlexNet)." + note).strip())


def load(torch_home: str | Path):
    """The LPIPS model with the local backbone weights; call status() first."""
    import lpips

    torch.hub.set_dir(str(Path(torch_home) / "hub"))
    os.environ["TORCH_HOME"] = str(torch_home)
    if not weights_path(torch_home).exists():  # never let torchvision download or go random
        raise WeightsMissing(f"{weights_path(torch_home)} is missing")
    with warnings.catch_warnings():  # lpips 0.1.4 still passes torchvision's old `pretrained=`
        warnings.simplefilter("ignore", UserWarning)
        model = lpips.LPIPS(net="alex", verbose=False).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def to_lpips_input(images: torch.Tensor) -> torch.Tensor:
    """N x 1 x 28 x 28 in [0, 1] -> N x 3 x 32 x 32 in [-1, 1] (AlexNet needs ≥ 32 x 32)."""
    x = images.float()
    if min(x.shape[-2:]) < 32:
        x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    return x.repeat(1, 3, 1, 1) * 2 - 1


@torch.no_grad()
def distance(model, a: torch.Tensor, b: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Per-pair LPIPS distance."""
    return torch.cat([model(to_lpips_input(a[i:i + batch]), to_lpips_input(b[i:i + batch])).flatten()
                      for i in range(0, len(a), batch)])


def fetch(torch_home: str | Path) -> Path:
    """Download the AlexNet weights into torch_home (needs internet), check their SHA-256."""
    import torchvision

    torch.hub.set_dir(str(Path(torch_home) / "hub"))
    path = weights_path(torch_home)
    if not path.exists():
        try:
            torchvision.models.alexnet(weights=torchvision.models.AlexNet_Weights.IMAGENET1K_V1)
        except Exception as err:  # offline: say what to do instead of a urllib traceback
            raise WeightsMissing(
                f"could not download the AlexNet weights ({err}). On an offline machine copy "
                f"{ALEXNET_FILE} from a machine that has it (~/.cache/torch/hub/checkpoints/) "
                f"to {path}.") from err
    digest = sha256(path)
    if not digest.startswith(ALEXNET_SHA256_PREFIX):
        raise WeightsMissing(f"{path} has SHA-256 {digest}, not torchvision's {ALEXNET_SHA256_PREFIX}…;"
                             " delete it and fetch again.")
    return path
