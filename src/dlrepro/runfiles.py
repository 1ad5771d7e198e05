"""The run contract's files: history.csv, run.json, then metrics.json (the completion marker)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from dlrepro.config import stable_hash
from dlrepro.io import atomic_write_text, write_json
from dlrepro.provenance import git_commit, versions


def write_run(out_dir: str | Path, spec: dict, metrics: dict, history: pd.DataFrame | None,
              device: str, timings: dict, extra_tables: dict[str, pd.DataFrame] | None = None):
    out_dir = Path(out_dir)
    if history is not None:
        atomic_write_text(out_dir / "history.csv", history.to_csv(index=False))
    for name, table in (extra_tables or {}).items():
        atomic_write_text(out_dir / f"{name}.csv", table.to_csv(index=False))
    write_json(out_dir / "run.json", {
        "spec": spec, "spec_hash": stable_hash(spec), "status": metrics["status"],
        "versions": versions(), "git_commit": git_commit(Path(__file__).parent),
        "device": device, "timings": timings})
    # Last, because Snakemake takes metrics.json as the sign that the run is complete; it holds
    # only deterministic numbers (timings live in run.json) so reruns can be compared bytewise.
    write_json(out_dir / "metrics.json", metrics)
