"""A run's data split: its seed and experiment pick the permutation, its settings the sizes."""
from __future__ import annotations

from dlrepro.data import Split, split_fashion_mnist
from dlrepro.train.seeding import derive_seed


def run_splits(spec: dict, cache: dict, device, standardise: bool = True) -> dict[str, Split]:
    """The split of one run: its seed and experiment pick the permutation, its settings the sizes."""
    data = spec["data"]
    return split_fashion_mnist(cache, derive_seed(spec["seed"], spec["experiment"], "split"),
                               data["validation_size"], spec["settings"]["train_size"],
                               data["test_size"], device, standardise)
