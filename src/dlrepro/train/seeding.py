"""Seeds derived from (seed, experiment, purpose), determinism switches, device choice."""
from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import torch


def derive_seed(seed: int, experiment: str, purpose: str = "") -> int:
    """A 63-bit seed that is the same for every variant of one experiment and seed."""
    digest = hashlib.sha256(f"{experiment}/{seed}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def enable_determinism() -> None:
    # cuBLAS needs this workspace setting for deterministic results (set before the first CUDA call).
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # torch.use_deterministic_algorithms(True) also sets torch._inductor's flag, and importing
    # inductor costs ~1.6 s per job; we never compile, so set the ATen switch alone.
    torch._C._set_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        from dlrepro.errors import ConfigError
        raise ConfigError("config key 'device' is 'cuda' but no CUDA device is visible here; "
                          "use 'auto' or 'cpu'")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
