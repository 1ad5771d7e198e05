"""Measurement records: one dated JSON file per measurement under benchmarks/results/.

A record is {kind, date, commit, machine, command, figures[, source]}: what was measured, when,
on which code and machine, by which command, and the numbers. Benchmark scripts write one with
`--record`; docs/performance.md's tables are generated from them (benchmarks/history.py).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks/results"


def machine() -> dict:
    """The machine, in the terms a later reader needs to compare like with like."""
    cpuinfo = Path("/proc/cpuinfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")), "") if cpuinfo.exists() else ""
    gpu = ""
    try:
        import torch
        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "gpu": gpu,
            "python": platform.python_version()}


def commit(path: Path = REPO) -> str:
    """The short commit of the measured code, '+changes' when the tree had uncommitted edits."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path,
                          capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=path,
                           capture_output=True, text=True).stdout.strip()
    return head + ("+changes" if dirty else "")


def write(kind: str, figures: dict, *, code_commit: str | None = None, out: Path = RESULTS,
          command: str | None = None) -> Path:
    now = dt.datetime.now()
    record = {"kind": kind, "date": now.date().isoformat(), "time": now.isoformat(timespec="seconds"), "commit": code_commit or commit(),
              "machine": machine(),
              "command": command or "python " + " ".join([Path(sys.argv[0]).resolve().relative_to(REPO).as_posix()
                                                          if Path(sys.argv[0]).resolve().is_relative_to(REPO)
                                                          else sys.argv[0], *sys.argv[1:]]),
              "figures": figures}
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{kind}_{record['date']}_{record['commit'].replace('+', '-')}.json"
    path.write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(f"record: {path}", file=sys.stderr)
    return path


def load(kind: str | None = None, folder: Path = RESULTS) -> list[dict]:
    """Records (optionally of one kind), oldest first (by date, then time); each knows its file name."""
    found = []
    for path in folder.glob("*.json"):
        record = json.loads(path.read_text())
        if "kind" in record and "date" in record and (kind is None or record["kind"] == kind):
            found.append({**record, "file": path.name})
    return sorted(found, key=lambda r: (r["date"], r.get("time", ""), r["file"]))


def latest(kind: str, folder: Path = RESULTS) -> dict | None:
    found = load(kind, folder)
    return found[-1] if found else None
