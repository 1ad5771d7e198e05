"""scripts/compare_results.py: numbers that moved are differences; wall time is not."""
import json
import sys

import pandas as pd

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from compare_results import compare  # noqa: E402


def results(root, val_acc, words_per_second, p_timing):
    run = root / "runs/dropout/dropout=0.0/seed0"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"status": "ok", "val_acc": val_acc}))
    pd.DataFrame({"epoch": [0, 1], "val_acc": [0.1, val_acc],
                  "epoch_time": [0.0, words_per_second]}).to_csv(run / "history.csv", index=False)
    (root / "tables").mkdir()
    # word2vec's checks: accuracy (p 0.01) and a timing check; Holm adjusts both together
    p_holm = sorted([0.01, p_timing])[0] * 2
    pd.DataFrame({"experiment": ["word2vec", "word2vec", "dropout"],
                  "metric": ["ws353", "words_per_second", "val_acc"],
                  "p": [0.01, p_timing, 0.2], "p_holm": [p_holm, p_timing, 0.2],
                  "ci_low_holm": [p_holm, 0.0, 0.1],
                  "outcome": ["supports", "supports", "unclear"]}).to_parquet(root / "tables/checks.parquet")
    return root


def test_wall_time_and_its_holm_neighbours_are_left_out(tmp_path):
    old = results(tmp_path / "old", 0.8, 1000.0, 0.001)
    new = results(tmp_path / "new", 0.8, 2000.0, 0.002)
    assert compare(old, new)["differences"] == []


def test_a_metric_that_moved_is_a_difference(tmp_path):
    old = results(tmp_path / "old", 0.8, 1000.0, 0.001)
    new = results(tmp_path / "new", 0.8000001, 1000.0, 0.001)
    problems = {rel for _, rel, _ in compare(old, new)["differences"]}
    assert problems == {"runs/dropout/dropout=0.0/seed0/metrics.json",
                        "runs/dropout/dropout=0.0/seed0/history.csv"}
