"""Share GPUs between concurrent jobs: each GPU offers `slots_per_gpu` slots, claimed by lock file.

Small models leave a GPU mostly idle, so several training processes per GPU raise throughput.
Snakemake bounds how many jobs run at once (`--resources gpu_slots=N`); this module decides which
GPU each one uses. A job claims the first free slot, filling slot 0 of every visible GPU before
slot 1 of any, so jobs spread over `CUDA_VISIBLE_DEVICES`. The claim is an flock on a node-local
file: it vanishes with the process, even on `kill -9`, so a crashed job never leaks its slot.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
import time
from pathlib import Path

import torch


def lock_dir() -> Path:
    path = Path(os.environ.get("DLREPRO_GPU_LOCK_DIR",
                               Path(tempfile.gettempdir()) / f"dlrepro-gpu-slots-{os.getuid()}"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def claim(device: torch.device, slots_per_gpu: int, poll_seconds: float = 1.0):
    """Yield the device to use; for CUDA, a specific GPU whose slot is held until exit."""
    if device.type != "cuda" or device.index is not None:
        yield device
        return
    gpus = torch.cuda.device_count()
    order = [(gpu, slot) for slot in range(slots_per_gpu) for gpu in range(gpus)]
    waited = False
    while True:
        for gpu, slot in order:
            handle = open(lock_dir() / f"gpu{gpu}-slot{slot}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                torch.cuda.set_device(gpu)
                yield torch.device("cuda", gpu)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if not waited:
            print(f"[dlrepro] all {gpus * slots_per_gpu} GPU slots are taken; waiting",
                  file=sys.stderr)
            waited = True
        time.sleep(poll_seconds)
