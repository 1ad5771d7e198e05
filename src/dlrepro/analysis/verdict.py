"""Verdicts: each check of an experiment becomes an outcome, the outcomes a verdict.

The rule (shown in the report as RULE) is the only place where evidence turns into words.
"""
from __future__ import annotations

import math

import pandas as pd

from dlrepro.config import format_value
from dlrepro.experiments import EXPERIMENTS, Check
from dlrepro.metrics.stats import mean_ci, paired_difference

RULE = (
    "A check supports the claim when the 95% CI of the (paired) difference lies entirely on the "
    "claimed side of zero (or of the stated threshold), contradicts it when the CI lies entirely "
    "on the other side, and is unclear otherwise; a check whose variants are not in the "
    "configuration is not measured. An experiment is supported when all its checks support it, "
    "not supported when any check contradicts it, and inconclusive otherwise. Deterministic "
    "experiments (one run is the whole answer) compare the single value directly.")

# Among several variants that match a selection, the one best on this (validation) metric.
TUNE_BY = "val_acc_best"


def _matching(runs: pd.DataFrame, selector: dict) -> pd.DataFrame:
    mask = pd.Series(True, index=runs.index)
    for axis, value in selector.items():
        column = f"axis.{axis}"
        if column not in runs:
            return runs.iloc[0:0]
        mask &= runs[column] == format_value(value)
    return runs[mask]


def select(runs: pd.DataFrame, selector: dict) -> pd.DataFrame:
    """Runs of the matching variant; among several, the one best on validation (diverged = 0)."""
    matched = _matching(runs, selector)
    if matched["variant"].nunique() > 1 and TUNE_BY in matched:
        score = matched[TUNE_BY].fillna(0.0).groupby(matched["variant"]).mean()
        matched = matched[matched["variant"] == score.idxmax()]
    return matched


def outcome(result: dict, expect: str, deterministic: bool, reference: float = 0.0) -> str:
    """Where the estimate's CI lies relative to `reference` (0 for differences)."""
    sign = 1 if expect == "greater" else -1
    if deterministic and result["n"] == 1:
        return "supports" if sign * (result["mean"] - reference) > 0 else "contradicts"
    low, high = sign * (result["ci_low"] - reference), sign * (result["ci_high"] - reference)
    if result["n"] < 2 or math.isnan(low):
        return "unclear"
    low, high = min(low, high), max(low, high)
    if low > 0:
        return "supports"
    if high < 0:
        return "contradicts"
    return "unclear"


def evaluate_checks(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for experiment in EXPERIMENTS:
        exp_runs = runs[runs["experiment"] == experiment.id] if len(runs) else runs
        if exp_runs.empty:
            continue
        for i, check in enumerate(experiment.checks):
            a = select(exp_runs, check.a)
            b_runs = runs[runs["experiment"] == check.b_experiment] if check.b_experiment else exp_runs
            b = select(b_runs, check.b) if check.b is not None else None
            metric_b = check.metric_b or check.metric
            if check.metric_b:  # two metrics of the same runs
                b = a
            row = {"experiment": experiment.id, "check": i, "text": check.text,
                   "metric": check.metric, "expect": check.expect,
                   "a_variant": a["variant"].iloc[0] if len(a) else "",
                   "b_variant": "" if b is None else _describe_b(check, b),
                   "threshold": check.threshold, "relative": check.relative}
            measured = (check.metric in a and a[check.metric].notna().any()
                        and (b is None or (metric_b in b and b[metric_b].notna().any())))
            if a.empty or (b is not None and b.empty) or not measured:
                rows.append({**row, "n": 0, "mean": math.nan, "ci_low": math.nan,
                             "ci_high": math.nan, "outcome": "not measured"})
                continue
            if b is None:
                result, reference = mean_ci(a[check.metric]), check.threshold
            elif check.metric_b:
                result, reference = paired_difference(a[check.metric], a[metric_b]), check.threshold
            else:
                pair = a.merge(b, on="seed", suffixes=("", "_b"))
                if check.relative:   # a / b − 1, paired by seed
                    result = mean_ci(pair[check.metric] / pair[f"{check.metric}_b"] - 1)
                else:
                    result = paired_difference(pair[check.metric], pair[f"{check.metric}_b"])
                reference = check.threshold
            rows.append({**row, **{k: result[k] for k in ("n", "mean", "ci_low", "ci_high")},
                         "outcome": outcome(result, check.expect, experiment.deterministic,
                                            reference)})
    return pd.DataFrame(rows)


def _describe_b(check: Check, b: pd.DataFrame) -> str:
    if b.empty:
        return ""
    if check.metric_b:
        return check.metric_b
    variant = b["variant"].iloc[0]
    return f"{check.b_experiment}/{variant}" if check.b_experiment else variant


def verdict(outcomes: list[str]) -> str:
    if outcomes and all(o == "supports" for o in outcomes):
        return "supported"
    if any(o == "contradicts" for o in outcomes):
        return "not supported"
    return "inconclusive"
