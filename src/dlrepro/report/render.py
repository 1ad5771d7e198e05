"""report/index.html from results/tables: claim, evidence and verdict per experiment.

The page is one self-contained file: figures are inline PNG data, styles are inline, nothing is
fetched from the network, so it opens from disk and can be mailed around.
"""
from __future__ import annotations

import base64
import datetime
import json
import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from dlrepro.analysis.verdict import RULE, inconclusive_because, select, verdict
from dlrepro.config import format_value
from dlrepro.experiments import EXPERIMENTS
from dlrepro.io import atomic_write_text, read_json
from dlrepro.metrics.stats import CONFIDENCE, mean_ci
from dlrepro.provenance import versions
from dlrepro.report import plots
from dlrepro.runfolder import RunFolder, run_key


def _read(tables: Path, name: str) -> pd.DataFrame:
    path = tables / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int,)) or (isinstance(value, float) and value.is_integer()
                                      and abs(value) >= 1):
        return f"{int(value):,}"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3g}"
    return f"{value:.{digits}g}"


def fmt_ci(mean, low, high) -> str:
    if mean is None or math.isnan(mean):
        return "–"
    if low is None or math.isnan(low):
        return fmt(mean)
    return f"{fmt(mean)} ± {fmt((high - low) / 2, 2)}"


def _summary_table(runs: pd.DataFrame, variants: pd.DataFrame, metrics: list[str]):
    metrics = [m for m in metrics if m in set(variants["metric"])]
    rows = []
    for variant, group in runs.groupby("variant", sort=False):
        cells = []
        for metric in metrics:
            stat = variants[(variants["variant"] == variant) & (variants["metric"] == metric)]
            cells.append(fmt_ci(*stat[["mean", "ci_low", "ci_high"]].iloc[0]) if len(stat) else "–")
        diverged = int((group["status"] == "diverged").sum())
        rows.append({"variant": variant, "n": len(group), "diverged": diverged, "cells": cells})
    return {"metrics": metrics, "rows": rows}


def _paired_table(paired: pd.DataFrame, metrics: list[str]):
    if paired.empty:
        return []
    subset = paired[paired["metric"].isin(metrics)]
    return [{"axis": r.axis, "value": r.value, "baseline": r.baseline, "context": r.context,
             "metric": r.metric, "n": r.n, "diff": fmt_ci(r.mean, r.ci_low, r.ci_high),
             "p": fmt(r.p_value, 2)} for r in subset.itertuples()]


def _check_rows(checks: pd.DataFrame):
    rows = []
    for r in checks.itertuples():
        paired = bool(r.b_variant)
        relative = bool(getattr(r, "relative", False))
        compared = (f"{r.a_variant} / {r.b_variant} − 1" if relative else
                    f"{r.a_variant} − {r.b_variant}") if paired else r.a_variant
        reference = fmt(r.threshold)
        corrected = (f"± {fmt((r.ci_high_holm - r.ci_low_holm) / 2, 2)}"
                     if r.ci_low_holm != r.ci_low else "the same")
        rows.append({"text": r.text, "metric": r.metric, "compared": compared,
                     "expect": ("> " if r.expect == "greater" else "< ") + reference, "n": r.n,
                     "estimate": fmt_ci(r.mean, r.ci_low, r.ci_high), "corrected": corrected,
                     "p": fmt(r.p_holm, 2), "mde": fmt(r.mde, 2),
                     "outcome": r.outcome, "reading": r.reading})
    return rows


def chance_supports(checks: pd.DataFrame) -> dict:
    """How many 'supports' chance alone would give: each tested check has a 2.5% chance to land
    on the claimed side when there is no effect (one side of a two-sided 95% CI)."""
    tested = checks[checks["p_value"].notna()] if len(checks) else checks
    return {"tested": len(tested), "expected": fmt((1 - CONFIDENCE) / 2 * len(tested), 2),
            "experiments": int(tested["experiment"].nunique()) if len(tested) else 0,
            "raw_supports": int((tested["outcome_raw"] == "supports").sum()) if len(tested) else 0,
            "supports": int((tested["outcome"] == "supports").sum()) if len(tested) else 0}


def literature_rows(experiment, exp_runs: pd.DataFrame) -> list[dict]:
    """The experiment's published numbers beside ours (mean ± 95% CI over seeds of the same
    metric, for the variant the row names, chosen as the checks choose)."""
    def measured(runs: pd.DataFrame) -> tuple[str, str]:
        if row.metric not in runs or runs[row.metric].isna().all():
            return "–", "not in this configuration"
        stat = mean_ci(runs[row.metric])
        return fmt_ci(stat["mean"], stat["ci_low"], stat["ci_high"]), runs["variant"].iloc[0]

    rows = []
    for row in experiment.literature:
        our_runs = select(exp_runs, row.ours)
        ours, ours_variant = measured(our_runs)
        if row.measured is not None:
            published = measured(select(exp_runs, row.measured))[0]
        elif isinstance(row.value, tuple):
            published = f"{fmt(row.value[0])}–{fmt(row.value[1])}"
        else:
            published = fmt(row.value)
        rows.append({"experiment": experiment.id, "what": row.what, "metric": row.metric,
                     "published": published, "source": row.source, "ours": ours,
                     "ours_variant": ours_variant,
                     "comparable": _compares(row, our_runs)})
    return rows


SHOWN_DIFFERENCES = 4     # a published row names this many of its setting's differences (in order)


def _compares(row, runs: pd.DataFrame) -> str:
    """The row's note on comparability; with a published `setting`, whether the shown runs used
    it, naming each setting that differs (ours, then the published value)."""
    if row.setting is None or runs.empty or "settings" not in runs:
        return row.comparable

    def shown(value) -> str:
        return "all" if value is None else format_value(value)   # train_size: null = all images

    ours = json.loads(runs["settings"].iloc[0])
    differ = [f"{key} {shown(ours.get(key))} (published {shown(value)})"
              for key, value in row.setting.items() if ours.get(key) != value]
    if not differ:
        return f"yes: these runs use the published setting. {row.comparable}"
    more = f" and {len(differ) - SHOWN_DIFFERENCES} more" if len(differ) > SHOWN_DIFFERENCES else ""
    return (f"no, a different setting: {'; '.join(differ[:SHOWN_DIFFERENCES])}{more}. "
            f"Comparable: {row.comparable}")


def _b64(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _extra_table(tables: Path, name: str, pivot: tuple[str, str, str] | None) -> pd.DataFrame:
    """A per-run table of each variant's lowest seed, as is or pivoted: (row key, order,
    value) -> one line per variant, one column per key, the values joined in order."""
    table = _read(tables, name)
    if table.empty:
        return table
    table = table[table["seed"] == table.groupby("variant")["seed"].transform("min")]
    if pivot:
        key, order, value = pivot
        return (table.sort_values(order).groupby(["variant", key], sort=False)[value]
                .agg(", ".join).unstack(key).reset_index())
    single = table["variant"].nunique() == 1 if "variant" in table else True
    return table.drop(columns=["experiment", "seed", *(["variant"] if single else [])],
                      errors="ignore")


FIGURE_TITLES = {"grid": "images", "latent": "latent space (test images)",
                 "interpolation": "interpolations in latent space"}


def _image_figures(figure_files: dict, exp_runs: pd.DataFrame) -> list[dict]:
    """Each variant's image figures, drawn from its lowest seed's outputs.pt."""
    blocks = []
    for variant, group in exp_runs.groupby("variant", sort=False):
        seed = int(group["seed"].min())
        path = figure_files.get((group["experiment"].iloc[0], variant, seed))
        if path is None:
            continue
        drawn = {name: plots.run_figure(figure)
                 for name, figure in RunFolder(path.parent).outputs().get("figures", {}).items()}
        figures = [{"title": FIGURE_TITLES.get(name, name), "src": _b64(png)}
                   for name, png in drawn.items() if png is not None]
        if figures:
            blocks.append({"variant": variant, "seed": seed, "figures": figures})
    return blocks



def _lpips_banner(scoring: pd.DataFrame) -> dict | None:
    """A warning when LPIPS was unavailable (off, or no weights with metrics.lpips: auto)."""
    if scoring.empty:
        return None
    missing = scoring[~scoring["lpips_available"].astype(bool)]
    if len(missing):
        return {"level": "unavailable", "message": missing["lpips_message"].iloc[0]}
    return None


def _lpips_weights(scoring: pd.DataFrame) -> list[str]:
    """Which weights file (source, SHA-256) produced the LPIPS numbers."""
    if scoring.empty or "lpips_source" not in scoring:
        return []
    used = scoring[scoring["lpips_available"].astype(bool)]
    return sorted({f"{r.lpips_source}: {Path(r.lpips_file).name}, SHA-256 {r.lpips_sha256}"
                   for r in used.itertuples()})


def plan_vs_measured(plan: dict, runs: pd.DataFrame) -> list[dict]:
    """Per experiment: the planner's training minutes against the runs' measured training
    minutes (run.json's train_seconds: the optimisation epochs, not evaluation or start-up)."""
    rows = []
    for experiment, row in plan["experiments"].items():
        measured = (runs.loc[runs["experiment"] == experiment, "train_seconds"].sum()
                    if len(runs) else 0.0)
        planned = row["train_seconds"]
        rows.append({"experiment": experiment, "runs": row["runs"],
                     "planned": fmt(planned / 60, 3), "measured": fmt(measured / 60, 3),
                     "ratio": fmt(measured / planned, 3) if planned > 0 and measured > 0 else "–",
                     "estimated": row["estimated"]})
    return rows


def build_context(tables: Path, determinism: str | None, config_hash: str,
                  figure_files=(), plan: str | None = None) -> dict:
    """What the template shows. `figure_files`: the outputs.pt files of the runs whose image
    figures are drawn (each variant's lowest seed)."""
    figure_files = {run_key(path): Path(path) for path in figure_files}
    runs, variants, paired = _read(tables, "runs"), _read(tables, "variants"), _read(tables, "paired")
    history, checks = _read(tables, "history"), _read(tables, "checks")
    image_scores, scoring = _read(tables, "image_scores"), _read(tables, "scoring")
    sections = []
    for experiment in EXPERIMENTS:
        exp_runs = runs[runs["experiment"] == experiment.id] if len(runs) else runs
        if exp_runs.empty:
            continue
        exp_history = history[history["experiment"] == experiment.id] if len(history) else history
        exp_checks = checks[checks["experiment"] == experiment.id] if len(checks) else checks
        exp_scores = (image_scores[image_scores["experiment"] == experiment.id]
                      if len(image_scores) else image_scores)
        drawn = [plots.draw(p.kind, p.options, exp_history, exp_runs, exp_scores)
                 for p in experiment.plots]
        figures = [_b64(png) for png in drawn if png is not None]
        exp_verdict = verdict(list(exp_checks["outcome"])) if len(exp_checks) else "inconclusive"
        extra = (_extra_table(tables, experiment.extra_table[0], experiment.extra_table_pivot)
                 if experiment.extra_table else pd.DataFrame())
        sections.append({
            "id": experiment.id, "title": experiment.title, "notes": experiment.notes,
            "claim": experiment.claim, "setting": experiment.setting,
            "see_also": list(experiment.see_also),
            "verdict": exp_verdict, "because": (inconclusive_because(exp_checks)
                                                if exp_verdict == "inconclusive" else ""),
            "checks": _check_rows(exp_checks), "figures": figures,
            "literature": literature_rows(experiment, exp_runs),
            "dots": _b64(dots) if (dots := plots.check_dots(exp_checks)) else None,
            "summary": _summary_table(exp_runs, variants[variants["experiment"] == experiment.id],
                                      experiment.table_metrics),
            "paired": _paired_table(paired[paired["experiment"] == experiment.id]
                                    if len(paired) else paired, experiment.table_metrics),
            "extra_title": experiment.extra_table[1] if experiment.extra_table else "",
            "extra": [{k: fmt(v, 10) if isinstance(v, float) else v for k, v in row.items()}
                      for row in extra.to_dict("records")],
            "images": _image_figures(figure_files, exp_runs) if experiment.images else [],
            "n_runs": len(exp_runs),
            "seconds": fmt(float(exp_runs["train_seconds"].sum()), 3),
        })
    determinism_result = read_json(determinism) if determinism and Path(determinism).exists() else None
    plan_data = read_json(plan) if plan and Path(plan).exists() else None
    timings = runs[["experiment", "variant", "seed", "status", "train_seconds"]].copy() if len(runs) else runs
    classifier_acc = (runs["classifier_test_acc"].dropna()
                      if "classifier_test_acc" in runs else pd.Series(dtype=float))
    return {
        "sections": sections,
        "lpips_banner": _lpips_banner(scoring),
        "lpips_weights": _lpips_weights(scoring),
        "classifier_acc": fmt(float(classifier_acc.iloc[0])) if len(classifier_acc) else None,
        "rule": RULE,
        "chance": chance_supports(checks),
        "literature": [row for section in sections for row in section["literature"]],
        "provenance": {
            "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "versions": versions(),
            "commits": sorted(set(runs["git_commit"])) if len(runs) else [],
            "devices": sorted(set(runs["device"])) if len(runs) else [],
            "config_hash": config_hash,
            "determinism": determinism_result,
            "n_runs": len(runs),
            "diverged": int((runs["status"] == "diverged").sum()) if len(runs) else 0,
            "timings": [{"run": f"{r.experiment}/{r.variant}/seed{r.seed}", "status": r.status,
                         "seconds": fmt(r.train_seconds, 3)} for r in timings.itertuples()],
            "plan": ({"device": plan_data["device"], "costs": Path(plan_data["costs"]).name,
                      "rows": plan_vs_measured(plan_data, runs),
                      "missing": plan_data.get("missing")} if plan_data else None),
        },
    }


def render(tables: str | Path, out: str | Path, determinism: str | None = None,
           config_hash: str = "", figure_files=(), plan: str | None = None) -> None:
    env = Environment(loader=PackageLoader("dlrepro", "report/templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    context = build_context(Path(tables), determinism, config_hash, figure_files, plan)
    html = env.get_template("index.html.j2").render(**context)
    atomic_write_text(out, html)
