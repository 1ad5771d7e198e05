"""Aggregation and verdicts on planted run folders whose answers are known."""
import pandas as pd
import pytest

from dlrepro.analysis.aggregate import aggregate
from dlrepro.analysis.verdict import outcome, verdict
from dlrepro.io import write_json


def plant_run(root, experiment, axes, seed, metrics):
    variant = "__".join(f"{k}={v}" for k, v in axes.items())
    folder = root / experiment / variant / f"seed{seed}"
    write_json(folder / "run.json", {
        "spec": {"experiment": experiment, "variant": variant, "seed": seed, "axes": axes},
        "device": "cpu", "git_commit": "abc", "timings": {"train_seconds": 1.0}})
    write_json(folder / "metrics.json", {"status": "ok", **metrics})
    pd.DataFrame({"epoch": [0, 1], "val_acc": [0.1, metrics["test_acc"]]}).to_csv(
        folder / "history.csv", index=False)
    return folder


@pytest.fixture
def planted(tmp_path):
    folders = []
    for seed, (base, dropped) in enumerate([(0.80, 0.83), (0.82, 0.84), (0.78, 0.815)]):
        folders.append(plant_run(tmp_path, "dropout", {"dropout": 0.0}, seed,
                                 {"test_acc": base, "gap": 0.15, "val_acc_best": base}))
        folders.append(plant_run(tmp_path, "dropout", {"dropout": 0.5}, seed,
                                 {"test_acc": dropped, "gap": 0.05, "val_acc_best": dropped}))
    return aggregate(folders, tmp_path / "tables"), tmp_path / "tables"


def test_tables_are_tidy_and_written(planted):
    tables, folder = planted
    assert len(tables["runs"]) == 6
    for name in ("runs", "variants", "paired", "history", "checks"):
        assert (folder / f"{name}.parquet").exists() and (folder / f"{name}.csv").exists()
    stats = tables["variants"].set_index(["variant", "metric"]).loc[("dropout=0.5", "test_acc")]
    assert stats["mean"] == pytest.approx((0.83 + 0.84 + 0.815) / 3)
    assert stats["n"] == 3


def test_paired_difference_is_per_seed(planted):
    tables, _ = planted
    paired = tables["paired"]
    row = paired[(paired["axis"] == "dropout") & (paired["metric"] == "test_acc")].iloc[0]
    assert row["value"] == "0.5" and row["baseline"] == "0.0"
    assert row["mean"] == pytest.approx((0.03 + 0.02 + 0.035) / 3)
    assert row["ci_low"] > 0


def test_checks_reach_the_planted_verdict(planted):
    tables, _ = planted
    checks = tables["checks"]
    assert list(checks["outcome"]) == ["supports", "supports"]
    assert verdict(list(checks["outcome"])) == "supported"


def test_outcome_rule():
    assert outcome({"n": 3, "mean": 1, "ci_low": 0.5, "ci_high": 1.5}, "greater", False) == "supports"
    assert outcome({"n": 3, "mean": 1, "ci_low": 0.5, "ci_high": 1.5}, "less", False) == "contradicts"
    assert outcome({"n": 3, "mean": 1, "ci_low": -0.5, "ci_high": 2}, "greater", False) == "unclear"
    assert outcome({"n": 1, "mean": 1, "ci_low": float("nan"), "ci_high": float("nan")},
                   "greater", False) == "unclear"
    assert outcome({"n": 1, "mean": 1e-13, "ci_low": float("nan"), "ci_high": float("nan")},
                   "less", True, reference=1e-12) == "supports"
    assert verdict(["supports", "unclear"]) == "inconclusive"
    assert verdict(["supports", "contradicts"]) == "not supported"
