"""Data sets as tensors on the training device, split by seed."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from dlrepro.data.fashion_mnist import MEAN, STD

# The prepared inputs (built by the data rules, read by training and scoring jobs).
FASHION_MNIST = "results/data/fashion-mnist.pt"
CORPUS = "results/data/corpus.txt"
BINARISED = "results/data/binarised.pt"


@dataclass
class Split:
    x: torch.Tensor  # float32, N x 1 x 28 x 28, standardised (or in [0, 1])
    y: torch.Tensor  # int64, N

    def __len__(self) -> int:
        return len(self.y)


def _to_float(images: torch.Tensor, device, standardise: bool) -> torch.Tensor:
    x = images.float() / 255.0
    return ((x - MEAN) / STD if standardise else x).unsqueeze(1).to(device)


def split_fashion_mnist(cache: dict, split_seed: int, validation_size: int,
                        train_size: int | None, test_size: int | None, device,
                        standardise: bool = True) -> dict[str, Split]:
    """Train/validation from the 60k training images by a seeded permutation; test stays apart.

    The permutation depends only on split_seed, so variants of one experiment and seed share it.
    Pixels are standardised for classifiers, or left in [0, 1] (standardise=False) for the
    generative models, whose outputs are images.
    """
    n = len(cache["train_labels"])
    if validation_size >= n:
        raise ValueError(f"data/validation_size={validation_size} leaves no training images (of {n})")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(split_seed))
    val_idx, train_idx = perm[:validation_size], perm[validation_size:]
    if train_size is not None:
        train_idx = train_idx[:train_size]
    test = slice(None, test_size)
    return {
        "train": Split(_to_float(cache["train_images"][train_idx], device, standardise),
                       cache["train_labels"][train_idx].long().to(device)),
        "val": Split(_to_float(cache["train_images"][val_idx], device, standardise),
                     cache["train_labels"][val_idx].long().to(device)),
        "test": Split(_to_float(cache["test_images"][test], device, standardise),
                      cache["test_labels"][test].long().to(device)),
    }



@dataclass
class Inputs:
    """The prepared inputs a training job may read; Fashion-MNIST is loaded once per job."""
    data: str | Path = FASHION_MNIST
    corpus: str | Path = CORPUS
    binarised: str | Path = BINARISED
    _cache: dict | None = field(default=None, repr=False)
    _binarised: dict | None = field(default=None, repr=False)

    def fashion_mnist(self) -> dict:
        if self._cache is None:
            from dlrepro.data.fashion_mnist import load_cache
            self._cache = load_cache(self.data)
        return self._cache

    def load(self, data: str | None) -> dict:
        """The tensors of a family's `data`; the corpus's path (its family reads it)."""
        if data == "corpus":
            return {"corpus": self.corpus}
        if data == "binarised":
            if self._binarised is None:
                from dlrepro.data.binarised import load
                self._binarised = load(self.binarised)
            return self._binarised
        return self.fashion_mnist()
