"""Atomic file writes: a reader (or Snakemake) never sees a half-written file. A full disk is
named (the folder, its free space, what to do) instead of surfacing as a bare Errno 28."""
from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from dlrepro.errors import DataError

_UMASK = os.umask(0)
os.umask(_UMASK)


class DiskFull(DataError):
    """No space left where a file was being written; nothing half-written was kept."""


def is_disk_full(err: BaseException) -> bool:
    """ENOSPC or EDQUOT, also as libraries that do not set errno say it (pyarrow)."""
    return isinstance(err, OSError) and (err.errno in (errno.ENOSPC, errno.EDQUOT)
                                         or "No space left on device" in str(err))


def disk_full(path: str | Path) -> DiskFull:
    """The error for a write to `path` that ran out of space: the folder, its free space, the fix."""
    folder = Path(path).resolve().parent
    existing = next((p for p in [folder, *folder.parents] if p.exists()), Path("/"))
    usage = shutil.disk_usage(existing)
    return DiskFull(
        f"no space left on the disk that holds '{folder}' ({usage.free / 1e6:,.1f} MB free of "
        f"{usage.total / 1e9:,.1f} GB) while writing '{Path(path).name}'; nothing half-written "
        "was kept. Free space on that disk (`make clean` removes results/ and report/; so does "
        "deleting other copies of results/), or run the project from a larger disk, then re-run "
        "snakemake: finished runs are kept and a killed run resumes from its checkpoint.")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if is_disk_full(err):
            raise disk_full(path) from err
        raise


def sha256(content: bytes | str | Path) -> str:
    """The SHA-256 (hex) of bytes in memory, or of a file's bytes (read in chunks): the one
    checksum of the project (data files, wheels, weights, run files)."""
    if isinstance(content, (bytes, bytearray, memoryview)):
        return hashlib.sha256(content).hexdigest()
    with open(content, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _finite_or_none(obj):
    """JSON has no NaN/inf: write them as null so every reader can parse the file."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    return obj


def write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(_finite_or_none(obj), indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def atomic_torch_save(obj, path: str | Path) -> None:
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def stable_hash(obj) -> str:
    """16 hex digits of the SHA-256 of obj's canonical JSON: a spec's identity."""
    return sha256(json.dumps(obj, sort_keys=True).encode())[:16]
