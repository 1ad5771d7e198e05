"""Fashion-MNIST from the original idx files, checksummed, cached as one tensor file.

Sources, in order: the configured folder (default: Debian's `dataset-fashion-mnist` package), then
torchvision's download when `data.download: true`. Debian re-gzips the files, so we checksum the
decompressed idx bytes, which are the same everywhere.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from dlrepro.errors import DataError  # noqa: F401  (raised here; the class lives in errors)
from dlrepro.io import atomic_torch_save, sha256

# sha256 of the decompressed idx files (zalandoresearch/fashion-mnist, as shipped by Debian).
FILES = {
    "train_images": ("train-images-idx3-ubyte",
                     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": ("train-labels-idx1-ubyte",
                     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": ("t10k-images-idx3-ubyte",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": ("t10k-labels-idx1-ubyte",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
TRAIN_IMAGES = 60_000      # the training file's images (validation is taken from them)
TEST_IMAGES = 10_000
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530  # training-set pixel statistics, used to standardise inputs

INSTALL_HINT = (
    "Install the Debian package (as root): apt-get install -y dataset-fashion-mnist\n"
    "or point config key 'data/fashion_mnist_dir' at a folder holding the four idx files\n"
    "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
    "t10k-labels-idx1-ubyte[.gz]),\nor, on a machine with internet, set 'data/download: true'.")


def find_file(folder: Path, stem: str) -> Path:
    """The idx file `stem` in `folder`, decompressed or .gz."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    where = f"'{folder}' does not exist" if not folder.is_dir() else f"'{folder / stem}[.gz]' is missing"
    raise DataError(f"Fashion-MNIST file {where} (config key 'data/fashion_mnist_dir').\n"
                    f"{INSTALL_HINT}")


def _read_file(folder: Path, stem: str) -> tuple[Path, bytes]:
    candidate = find_file(folder, stem)
    raw = candidate.read_bytes()
    if candidate.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"Fashion-MNIST file '{candidate}' is corrupt ({err}).\n"
                            f"Reinstall it:\n{INSTALL_HINT}") from err
    return candidate, raw


def _parse_idx(raw: bytes) -> np.ndarray:
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _verified(folder: Path):
    for key, (stem, expected) in FILES.items():
        path, raw = _read_file(folder, stem)
        digest = sha256(raw)
        if digest != expected:
            raise DataError(f"Fashion-MNIST file '{path}' is corrupt: sha256 of its idx content "
                            f"is {digest}, expected {expected}.\nReinstall it:\n{INSTALL_HINT}")
        yield key, raw


def verify_files(folder: str | Path) -> None:
    """Raise DataError naming the first missing or corrupt idx file."""
    for _ in _verified(Path(folder)):
        pass


def load_arrays(folder: str | Path) -> dict[str, np.ndarray]:
    """The four arrays as uint8, each file verified against its checksum."""
    return {key: _parse_idx(raw) for key, raw in _verified(Path(folder))}


def download(root: Path) -> Path:
    """Opt-in: torchvision's download, decompressed into raw/ (where torchvision reads it)."""
    try:
        from torchvision.datasets import FashionMNIST

        FashionMNIST(str(root), train=True, download=True)
        FashionMNIST(str(root), train=False, download=True)
    except Exception as err:  # network errors come in many types
        raise DataError(f"Downloading Fashion-MNIST failed ({err}).\n{INSTALL_HINT}") from err
    return root / "FashionMNIST" / "raw"


def prepare(folder: str | Path, allow_download: bool, out: str | Path) -> None:
    """Verify the idx files and cache them as one tensor file for the training jobs."""
    import torch

    try:
        arrays = load_arrays(folder)
    except DataError:
        if not allow_download:
            raise
        arrays = load_arrays(download(Path(out).parent / "download"))
    atomic_torch_save({key: torch.from_numpy(value.copy()) for key, value in arrays.items()}, out)


def load_cache(path: str | Path, rule: str = "prepare_data") -> dict:
    """A prepared tensor file (the output of the Snakemake rule `rule`, `dlrepro <rule>`)."""
    import torch

    path = Path(path)
    command = f"dlrepro {rule.replace('_', '-')}"
    if not path.exists():
        raise DataError(f"Prepared data '{path}' is missing: run `{command}` "
                        f"(the Snakemake rule {rule} does this).")
    try:
        return torch.load(path, weights_only=True)
    except Exception as err:
        raise DataError(f"Prepared data '{path}' is unreadable ({err}); delete it and re-run "
                        f"`{command}`.") from err
