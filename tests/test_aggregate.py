"""Aggregation and verdicts on planted run folders whose answers are known."""
from pathlib import Path

import pandas as pd
import pytest

from dlrepro.analysis.aggregate import aggregate
from dlrepro.analysis.verdict import outcome, verdict
from dlrepro.io import write_json


def plant_run(root, experiment, axes, seed, metrics, settings=None):
    variant = "__".join(f"{k}={v}" for k, v in axes.items())
    folder = root / experiment / variant / f"seed{seed}"
    write_json(folder / "run.json", {
        "spec": {"experiment": experiment, "variant": variant, "seed": seed, "axes": axes,
                 **({"settings": settings} if settings else {})},
        "device": "cpu", "git_commit": "abc", "timings": {"train_seconds": 1.0}})
    write_json(folder / "metrics.json", {"status": "ok", **metrics})
    pd.DataFrame({"epoch": [0, 1], "val_acc": [0.1, metrics["test_acc"]],
                  "val_loss": [2.3, 1 - metrics["test_acc"]]}).to_csv(
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


def _plant_dropout(root, acc_gain_p, gap_cut_p):
    """Three seeds whose paired test_acc gain and gap cut have exactly these t-test p-values."""
    from scipy import stats
    folders, spread = [], 0.01
    gain = stats.t.isf(acc_gain_p / 2, 2) * spread / 3 ** 0.5
    cut = stats.t.isf(gap_cut_p / 2, 2) * spread / 3 ** 0.5
    for seed, (base, step) in enumerate(zip([0.80, 0.82, 0.78], [-1, 0, 1])):
        folders.append(plant_run(root, "dropout", {"dropout": 0.0}, seed,
                                 {"test_acc": base, "gap": 0.15, "val_acc_best": base}))
        folders.append(plant_run(root, "dropout", {"dropout": 0.5}, seed, {
            "test_acc": base + gain + step * spread, "gap": 0.15 - cut - step * spread,
            "val_acc_best": base}))
    return aggregate(folders, root / "tables")["checks"].set_index("text")


def test_holm_corrects_the_verdict_and_says_so(tmp_path):
    # raw p 0.04 (gap) and 0.03 (accuracy): both "supports" at 95%; Holm: 0.03 * 2 = 0.06 and
    # max(0.06, 0.04) = 0.06, so neither survives the correction for two checks
    checks = _plant_dropout(tmp_path, acc_gain_p=0.03, gap_cut_p=0.04)
    acc, gap = checks.loc["dropout 0.5 raises test accuracy"], checks.loc[
        "dropout 0.5 narrows the train − test accuracy gap"]
    assert (acc["p_value"], gap["p_value"]) == pytest.approx((0.03, 0.04))
    assert (acc["p_holm"], gap["p_holm"]) == pytest.approx((0.06, 0.06))
    assert acc["outcome_raw"] == gap["outcome_raw"] == "supports"
    assert acc["outcome"] == gap["outcome"] == "unclear"
    assert acc["ci_low"] > 0 > acc["ci_low_holm"] and gap["ci_high"] < 0 < gap["ci_high_holm"]
    assert "before the correction" in acc["reading"]
    # at p_holm = 0.05 the corrected interval touches zero exactly (p 0.025 * 2)
    edge = _plant_dropout(tmp_path / "edge", acc_gain_p=0.025, gap_cut_p=0.04).loc[
        "dropout 0.5 raises test accuracy"]
    assert edge["p_holm"] == pytest.approx(0.05) and edge["ci_low_holm"] == pytest.approx(0, abs=1e-12)


def test_an_unclear_check_says_whether_it_needs_seeds_or_shows_nothing(tmp_path):
    from dlrepro.metrics.stats import minimum_detectable_effect, seeds_needed
    checks = _plant_dropout(tmp_path, acc_gain_p=0.2, gap_cut_p=0.9)
    acc, gap = checks.loc["dropout 0.5 raises test accuracy"], checks.loc[
        "dropout 0.5 narrows the train − test accuracy gap"]
    assert acc["outcome"] == gap["outcome"] == "unclear"
    assert acc["mde"] == pytest.approx(minimum_detectable_effect(0.01, 3))
    assert acc["seeds_needed"] == seeds_needed(acc["mean"], 0.01) <= 100
    assert acc["reading"] == f"too few seeds: about {acc['seeds_needed']:.0f} would resolve an effect of this size"
    assert gap["seeds_needed"] > 100 and gap["reading"].startswith("no effect seen")


def test_report_shows_power_holm_dots_and_published_numbers(tmp_path):
    from dlrepro.report.render import render
    folders = []
    for seed, (mlp, cnn) in enumerate([(0.84, 0.89), (0.85, 0.885), (0.83, 0.9)]):
        folders.append(plant_run(tmp_path, "cnn-vs-mlp", {"model": "mlp"}, seed,
                                 {"test_acc": mlp, "n_params": 269322, "val_acc_best": mlp}))
        folders.append(plant_run(tmp_path, "cnn-vs-mlp", {"model": "cnn"}, seed,
                                 {"test_acc": cnn, "n_params": 20490, "val_acc_best": cnn}))
    aggregate(folders, tmp_path / "tables")
    render(tmp_path / "tables", tmp_path / "index.html")
    html = (tmp_path / "index.html").read_text()
    section = html[html.index('<section id="cnn-vs-mlp">'):]
    # the published rows: the benchmark's range beside our CNN's mean over the three seeds
    assert "0.876–0.916" in html and "Ours beside published numbers" in html
    assert f"{(0.89 + 0.885 + 0.9) / 3:.4g} ±" in section
    # two checks, both tested: 5% of 2 = 0.05 expected by chance; corrected columns and the dots
    chance = " ".join(html[html.index('<p id="chance">'):].split("</p>")[0].split())
    assert "2 checks in 1 experiment were tested at 95%" in chance and "about 0.05 of them" in chance
    assert "Holm-corrected, adjusted p" in section and "min. detect&shy;able effect" in section
    assert "per-seed differences of each check" in section


@pytest.mark.parametrize("profile", ["default", "full"])
def test_a_published_row_says_whether_our_runs_used_its_setting(tmp_path, profile):
    """DeepOBS's fmnist_2c2d rows: the full profile's runs use the published setting; the
    default profile's MLP runs differ, and the row names each difference."""
    from dlrepro.config import expand_runs, load_config
    from dlrepro.report.render import render
    repo = Path(__file__).resolve().parents[1]
    files = [repo / "config/config.yaml"] + ([repo / "config/full.yaml"] if profile == "full" else [])
    runs = [r for r in expand_runs(load_config(files)) if r.experiment == "optimizers"
            and r.seed < 3 and r.axes["optimizer"] in ("sgd", "momentum", "adam")]
    folders = [plant_run(tmp_path, "optimizers", r.axes, r.seed,
                         {"test_acc": 0.9 + 0.01 * r.seed, "val_acc_best": r.axes["lr"]},
                         settings=r.settings) for r in runs]
    aggregate(folders, tmp_path / "tables")
    render(tmp_path / "tables", tmp_path / "index.html")
    html = (tmp_path / "index.html").read_text()
    rows = html[html.index('<table class="literature">'):].split("</table>")[0]
    momentum = rows[rows.index("fmnist_2c2d, momentum 0.99"):].split("</tr>")[0]
    if profile == "full":
        assert rows.count("yes: these runs use the published setting") == 3
    else:
        assert rows.count("no, a different setting") == 3
        assert ("model mlp (published cnn); epochs 4 (published 100); train_size 10000 (published"
                " all); batch_size 64 (published 128) and 5 more") in momentum


def test_a_win_against_a_run_that_did_not_learn_is_no_evidence(tmp_path):
    from dlrepro.analysis.verdict import inconclusive_because
    folders = []
    for seed, (mlp, cnn) in enumerate([(0.10, 0.89), (0.11, 0.885), (0.10, 0.9)]):   # MLP at chance
        folders.append(plant_run(tmp_path, "cnn-vs-mlp", {"model": "mlp"}, seed,
                                 {"test_acc": mlp, "n_params": 269322, "val_acc_best": mlp}))
        folders.append(plant_run(tmp_path, "cnn-vs-mlp", {"model": "cnn"}, seed,
                                 {"test_acc": cnn, "n_params": 20490, "val_acc_best": cnn}))
    checks = aggregate(folders, tmp_path / "tables")["checks"].set_index("text")
    accuracy = checks.loc["the CNN reaches higher test accuracy"]
    assert accuracy["outcome_raw"] == "supports" and accuracy["outcome"] == "did not learn"
    assert "model=mlp: test_acc 0.103 ≤ 0.5" in accuracy["reading"]
    assert verdict(list(checks["outcome"])) == "inconclusive"
    assert inconclusive_because(checks.reset_index()) == "1 check compares against a run that did not learn"


def test_a_check_of_two_metrics_of_the_same_runs_is_their_per_seed_difference(tmp_path):
    # cyclegan's first check: Fréchet distance of the translations minus that of the edge maps
    folders = []
    for seed, (translated, edges) in enumerate([(140.0, 190.0), (150.0, 185.0), (145.0, 196.0)]):
        folders.append(plant_run(tmp_path, "cyclegan", {"cycle_weight": 10.0, "identity": 0.5}, seed,
                                 {"test_acc": 0.0, "fd/translated": translated, "fd/edges": edges}))
    checks = aggregate(folders, tmp_path / "tables")["checks"].set_index("text")
    learned = checks.iloc[0]
    assert learned["metric"] == "fd/translated" and learned["n"] == 3
    assert learned["mean"] == pytest.approx((-50 - 35 - 51) / 3)
    assert learned["differences"] == "[-50.0, -35.0, -51.0]"
    assert learned["outcome"] == "supports"
