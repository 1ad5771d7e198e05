"""GPU slot claims, exercised with a pretend set of GPUs (the lock logic needs no CUDA)."""
import contextlib

import pytest
import torch

from dlrepro.train import gpu_slots


@pytest.fixture
def two_gpus(monkeypatch, tmp_path):
    monkeypatch.setenv("DLREPRO_GPU_LOCK_DIR", str(tmp_path))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda index: None)


def test_cpu_needs_no_slot():
    with gpu_slots.claim(torch.device("cpu"), 4) as device:
        assert device == torch.device("cpu")


def test_claims_spread_over_gpus_before_sharing_one(two_gpus):
    with contextlib.ExitStack() as stack:
        devices = [stack.enter_context(gpu_slots.claim(torch.device("cuda"), 2)) for _ in range(4)]
    assert [d.index for d in devices] == [0, 1, 0, 1]


def test_released_slot_is_reused(two_gpus):
    with gpu_slots.claim(torch.device("cuda"), 1) as first:
        with gpu_slots.claim(torch.device("cuda"), 1) as second:
            assert (first.index, second.index) == (0, 1)
    with gpu_slots.claim(torch.device("cuda"), 1) as again:
        assert again.index == 0
