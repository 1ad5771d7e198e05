"""Tidy tables from the run folders (results/runs/...) into results/tables/*.parquet + .csv.

runs      one row per run: experiment, variant, seed, status, axis values, metrics, timings,
          its settings (JSON)
variants  per (experiment, variant, metric): n, mean, std, 95% CI over seeds
paired    per ablation axis: each value minus the axis's first (baseline) value, same seed and
          same other axes, with the CI of the paired difference
history   every epoch (or step) of every run
checks    the verdict checks of each experiment (see dlrepro.analysis.verdict)
<name>    any other per-run CSV (for example backprop's gradients table)
image_scores, scoring   from the scoring stage (results/scores): one row per scored image set,
          and per run which LPIPS weights were used; its metrics join the runs table
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from dlrepro.config import format_value
from dlrepro.io import _UMASK, disk_full, is_disk_full
from dlrepro.metrics.stats import mean_ci, paired_difference
from dlrepro.runfolder import RunFolder, run_key

KEYS = ["experiment", "variant", "seed"]
TIMINGS = ["train_seconds", "epoch_seconds", "words_per_second"]


def read_runs(run_dirs: list[str | Path], score_files: list[str | Path] = ()
              ) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """(runs, history, extra tables, axes order per experiment) from the run folders and the
    scoring stage's files."""
    rows, histories, extras, axes_order = [], [], {}, {}
    scored_by_run = {run_key(path): Path(path) for path in score_files}
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        folder = RunFolder(run_dir.parent if run_dir.suffix == ".json" else run_dir)
        info, metrics = folder.info(), folder.metrics()
        spec = info["spec"]
        key = {"experiment": spec["experiment"], "variant": spec["variant"], "seed": spec["seed"]}
        order = axes_order.setdefault(spec["experiment"], {})
        for axis, value in spec["axes"].items():
            values = order.setdefault(axis, [])
            if format_value(value) not in values:
                values.append(format_value(value))
        row = {**key, "status": metrics["status"],
               **{f"axis.{a}": format_value(v) for a, v in spec["axes"].items()}}
        scored = scored_by_run.get(tuple(key.values()))
        if scored:
            scores = RunFolder(scored.parent).read(scored.name, what="score file")
            metrics = {**metrics, **scores["metrics"]}
            extras.setdefault("image_scores", []).append(pd.DataFrame(scores["sets"]).assign(**key))
            extras.setdefault("scoring", []).append(pd.DataFrame([{
                **key, **{f"lpips_{k}": v for k, v in scores["lpips"].items()}}]))
        for name, value in metrics.items():
            if name == "status":
                continue
            row[name] = math.nan if value is None else float(value)
        for name in TIMINGS:
            row[name] = info["timings"].get(name, math.nan)
        # the run's settings: what a published number's setting is compared with (the report)
        row["settings"] = json.dumps(spec.get("settings", {}), sort_keys=True)
        row["device"] = info["device"]
        row["git_commit"] = info["git_commit"]
        rows.append(row)
        for name, frame in folder.tables().items():
            frame = frame.assign(**key)
            (histories if name == "history" else extras.setdefault(name, [])).append(frame)
    runs = pd.DataFrame(rows)
    history = pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(columns=KEYS)
    return runs, history, {k: pd.concat(v, ignore_index=True) for k, v in extras.items()}, axes_order


def metric_columns(runs: pd.DataFrame) -> list[str]:
    skip = set(KEYS) | {"status", "device", "git_commit", "settings"}
    return [c for c in runs.columns if c not in skip and not c.startswith("axis.")
            and pd.api.types.is_numeric_dtype(runs[c])]


def summarise_variants(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (experiment, variant), group in runs.groupby(["experiment", "variant"], sort=False):
        for metric in metric_columns(runs):
            if group[metric].notna().any():
                rows.append({"experiment": experiment, "variant": variant, "metric": metric,
                             **mean_ci(group[metric])})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, axes_order: dict) -> pd.DataFrame:
    """Each non-baseline value of an axis against the baseline value, all else equal."""
    rows = []
    for experiment, group in runs.groupby("experiment", sort=False):
        axes = axes_order.get(experiment, {})
        metrics = [m for m in metric_columns(runs) if group[m].notna().any()]
        for axis, values in axes.items():
            if len(values) < 2:
                continue
            others = [f"axis.{a}" for a in axes if a != axis]
            baseline = values[0]
            for value in values[1:]:
                treated = group[group[f"axis.{axis}"] == value]
                control = group[group[f"axis.{axis}"] == baseline]
                merged = treated.merge(control, on=["seed", *others], suffixes=("", "_base"))
                for context, pair in (merged.groupby(others, sort=False) if others
                                      else [((), merged)]):
                    context = context if isinstance(context, tuple) else (context,)
                    where = ", ".join(f"{o[5:]}={c}" for o, c in zip(others, context))
                    for metric in metrics:
                        rows.append({"experiment": experiment, "axis": axis, "value": value,
                                     "baseline": baseline, "context": where,
                                     "variant": pair["variant"].iloc[0],
                                     "baseline_variant": pair["variant_base"].iloc[0],
                                     "metric": metric,
                                     **paired_difference(pair[metric], pair[f"{metric}_base"])})
    return pd.DataFrame(rows)


def write_table(frame: pd.DataFrame, out_dir: Path, name: str) -> None:
    frame.to_parquet(out_dir / f"{name}.parquet", index=False)
    frame.to_csv(out_dir / f"{name}.csv", index=False)


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path) -> None:
    """All tables or none: written into a scratch folder beside out_dir, then swapped in."""
    import shutil
    import tempfile

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    os.chmod(scratch, 0o777 & ~_UMASK)    # mkdtemp makes it private; tables are for everyone
    try:
        for name, frame in tables.items():
            try:
                write_table(frame, scratch, name)
            except OSError as err:      # pyarrow's and pandas' writes are not ours: name the disk
                if is_disk_full(err):
                    raise disk_full(out_dir / f"{name}.parquet") from err
                raise
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{scratch.name[-8:]}")
            os.replace(out_dir, old)
        os.replace(scratch, out_dir)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def aggregate(run_dirs: list[str | Path], out_dir: str | Path,
              score_files: list[str | Path] = ()) -> dict[str, pd.DataFrame]:
    from dlrepro.analysis.verdict import evaluate_checks

    out_dir = Path(out_dir)
    runs, history, extras, axes_order = read_runs(run_dirs, score_files)
    tables = {"runs": runs, "variants": summarise_variants(runs),
              "paired": paired_differences(runs, axes_order), "history": history,
              **extras}
    tables["checks"] = evaluate_checks(runs)
    write_tables(tables, out_dir)
    return tables
