"""Verdicts: each check of an experiment becomes an outcome, the outcomes a verdict.

The rule (shown in the report as RULE) is the only place where evidence turns into words.
"""
from __future__ import annotations

import json
import math

import pandas as pd

from dlrepro.config import format_value
from dlrepro.experiments import EXPERIMENTS, Check
from dlrepro.metrics.stats import (CONFIDENCE, holm, mean_ci, minimum_detectable_effect,
                                   seeds_needed, t_test_p)

RULE = (
    "A check supports the claim when the 95% CI of the (paired, by seed) difference lies entirely "
    "on the claimed side of zero (or of the stated threshold), contradicts it when the CI lies "
    "entirely on the other side, and is unclear otherwise. An experiment makes several checks, so "
    "its CIs are corrected by Holm's method: each is widened to the level at which it excludes "
    "the reference exactly when Holm's adjusted p-value is below 5% (the chance that any of an "
    "experiment's checks reads supports or contradicts by chance stays at most 5%); the outcome "
    "is read from the corrected CI, the raw one is shown beside it. A check against a run that "
    "did not learn (below the check's stated floor) is no evidence and reads 'did not learn'; a "
    "check whose variants are not in the configuration is not measured. An experiment is "
    "supported when all its checks support it, not supported when any check contradicts it, and "
    "inconclusive otherwise. Deterministic experiments (one run is the whole answer) compare the "
    "single value directly. Power: the minimum detectable effect is the smallest true difference "
    "the check's seeds detect 80% of the time (paired t-test at 5%, the observed spread); an "
    "unclear check says how many seeds an effect of the observed size would need, and reads "
    "'too few seeds' when that is at most 100, 'no effect seen' otherwise.")

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


def _check_values(check: Check, a: pd.DataFrame, b: pd.DataFrame | None) -> pd.Series:
    """What a check's CI is over: one value per seed (a − b paired by seed, a / b − 1, a's two
    metrics' difference, or a's metric itself against a threshold)."""
    if check.metric_b:
        return a[check.metric] - a[check.metric_b]
    if b is None:
        return a[check.metric]
    pair = a.merge(b, on="seed", suffixes=("", "_b"))
    if check.relative:
        return pair[check.metric] / pair[f"{check.metric}_b"] - 1
    return pair[check.metric] - pair[f"{check.metric}_b"]


def _did_not_learn(check: Check, a: pd.DataFrame, b: pd.DataFrame | None) -> str:
    """Which compared runs sit at or below the check's `learned` floors (mean over seeds): a
    comparison won against a run that never trained is no evidence."""
    failed = []
    for runs in (a, b):
        for metric, floor in check.learned.items():
            if runs is not None and metric in runs and not runs[metric].mean() > floor:
                failed.append(f"{runs['variant'].iloc[0]}: {metric} {runs[metric].mean():.3g} "
                              f"≤ {floor:g}")
    return "; ".join(failed)


def evaluate_checks(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per check: estimate and CI over seeds, power (minimum detectable effect, seeds
    needed), the raw outcome, and the outcome after Holm's correction within the experiment."""
    frames = []
    for experiment in EXPERIMENTS:
        exp_runs = runs[runs["experiment"] == experiment.id] if len(runs) else runs
        if exp_runs.empty:
            continue
        rows = []
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
                   "threshold": check.threshold, "relative": check.relative,
                   "differences": "[]", "unlearned": ""}
            measured = (check.metric in a and a[check.metric].notna().any()
                        and (b is None or (metric_b in b and b[metric_b].notna().any())))
            if a.empty or (b is not None and b.empty) or not measured:
                rows.append({**row, "n": 0, "mean": math.nan, "std": math.nan, "ci_low": math.nan,
                             "ci_high": math.nan, "p_value": math.nan,
                             "outcome_raw": "not measured"})
                continue
            values = _check_values(check, a, b)
            values = values[pd.notna(values) & values.map(lambda v: math.isfinite(float(v)))]
            result = mean_ci(values)
            raw = outcome(result, check.expect, experiment.deterministic, check.threshold)
            unlearned = _did_not_learn(check, a, None if check.metric_b else b) if check.learned else ""
            rows.append({**row, **{k: result[k] for k in ("n", "mean", "std", "ci_low", "ci_high")},
                         "p_value": t_test_p(result, check.threshold),
                         "differences": json.dumps([float(v) for v in values]),
                         "unlearned": unlearned, "outcome_raw": raw})
        frames.append(_correct(pd.DataFrame(rows), experiment.deterministic))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _correct(checks: pd.DataFrame, deterministic: bool) -> pd.DataFrame:
    """Holm within the experiment: each CI is widened to the level at which it excludes the
    reference exactly when Holm's adjusted p-value is below 5%, and the outcome read from it;
    then each check's power and, for one that does not support, why."""
    checks = checks.copy()
    checks["p_holm"] = holm(checks["p_value"])
    lows, highs, outcomes, mdes, needed, readings = [], [], [], [], [], []
    for r in checks.itertuples():
        low, high, result = r.ci_low, r.ci_high, r.outcome_raw
        if math.isfinite(r.p_value) and 0 < r.p_value < r.p_holm:
            level = 1 - (1 - CONFIDENCE) * r.p_value / r.p_holm
            corrected = mean_ci(json.loads(r.differences), confidence=level)
            low, high = corrected["ci_low"], corrected["ci_high"]
            result = outcome(corrected, r.expect, deterministic, r.threshold)
        if r.unlearned:
            result = "did not learn"
        effect = r.mean - r.threshold
        mde = minimum_detectable_effect(r.std, r.n) if r.n >= 2 else math.nan
        seeds = seeds_needed(effect, r.std) if r.n >= 2 else math.nan
        lows.append(low)
        highs.append(high)
        outcomes.append(result)
        mdes.append(mde)
        needed.append(seeds)
        readings.append(_reading(result, r.outcome_raw, (1 if r.expect == "greater" else -1) * effect,
                                 seeds, r.unlearned))
    checks["ci_low_holm"], checks["ci_high_holm"], checks["outcome"] = lows, highs, outcomes
    checks["mde"], checks["seeds_needed"], checks["reading"] = mdes, needed, readings
    return checks


# An effect that more than this many seeds would be needed to resolve (at 80% power, 5%) is
# smaller than 0.28 standard deviations of its seeds' differences: no effect at this spread.
FEASIBLE_SEEDS = 100


def _reading(result: str, raw: str, effect_toward_claim: float, seeds: float, unlearned: str) -> str:
    """Why a check does not support its claim: the honest reading of 'unclear'."""
    if result == "did not learn":
        return f"a compared run did not learn ({unlearned}): the comparison is no evidence"
    if result in ("supports", "not measured"):
        return ""
    if raw != result:
        return f"{raw} before the correction for this experiment's several checks"
    if result == "contradicts":
        return ""
    if effect_toward_claim <= 0:
        return "no effect seen: the estimate points away from the claim"
    if seeds <= FEASIBLE_SEEDS:
        return f"too few seeds: about {seeds:.0f} would resolve an effect of this size"
    if math.isinf(seeds):
        return "no effect seen: far more seeds than could be run would be needed"
    return f"no effect seen: an effect this small would need about {seeds:.0f} seeds"


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


# Why a check does not settle its claim, by a phrase of its reading: (one check, several).
WHY_NOT = {"too few seeds": ("needs more seeds", "need more seeds"),
           "no effect seen": ("shows no effect", "show no effect"),
           "did not learn": ("compares against a run that did not learn",
                             "compare against a run that did not learn"),
           "before the correction": ("loses its result to the correction for several checks",
                                     "lose their result to the correction for several checks")}


def inconclusive_because(checks: pd.DataFrame) -> str:
    """For an inconclusive experiment: which kinds of non-support its checks show ("2 checks
    need more seeds, 1 check shows no effect")."""
    counts: dict[str, int] = {}
    for r in checks.itertuples():
        if r.outcome in ("supports", "contradicts"):
            continue
        reading = r.reading if isinstance(r.reading, str) else ""
        kind = next((k for k in WHY_NOT if k in reading), "not measured")
        counts[kind] = counts.get(kind, 0) + 1
    phrases = {**WHY_NOT, "not measured": ("is not measured", "are not measured")}
    return ", ".join(f"{n} check{'s' * (n > 1)} {phrases[kind][n > 1]}" for kind, n in counts.items())
