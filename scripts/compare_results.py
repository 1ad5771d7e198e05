"""Compare two results folders number by number (a refactor must not move any).

    python scripts/compare_results.py OLD_RESULTS NEW_RESULTS

Compared, after leaving out wall time (train/epoch seconds, words per second, elapsed; checks of a
timing metric, and the Holm-adjusted p-values and intervals of their experiment) and provenance (git commit,
device, the weights file's folder):
  every run's metrics.json (exact JSON equality), its history.csv and other per-run tables,
  every score file of the scoring stage, and every table of results/tables.
A run or file present on one side only is a difference (with --intersection: counted and
listed, not compared; for a DAG stopped part-way). Exit status 1 when anything differs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

WALL_TIME = {"epoch_time", "elapsed", "words_per_second", "train_seconds", "epoch_seconds",
             "wall_seconds"}
# lpips_file: where the clone keeps the weights (their SHA-256 is compared)
PROVENANCE = {"git_commit", "device", "lpips_file"}


def _json(path: Path):
    return json.loads(path.read_text())


def _frame(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    frame = frame.drop(columns=[c for c in frame.columns if c in WALL_TIME | PROVENANCE])
    if "metric" in frame:               # summary rows of a timing metric
        timing = frame["metric"].isin(WALL_TIME)
        if "experiment" in frame:
            # Holm adjusts each p-value (and interval) with the experiment's others: a timing
            # check's p-value moves its neighbours' adjusted ones (their raw ones still count)
            timed = frame["experiment"].isin(frame.loc[timing, "experiment"])
            frame = frame.assign(**{c: frame[c].where(~timed) for c in frame if c.endswith("_holm")})
        frame = frame[~timing]
    return frame.reset_index(drop=True)


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    if list(a.columns) != list(b.columns):
        return f"columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=False)
    except AssertionError as err:
        return " ".join(str(err).split())[:300]
    return None


def compare(old: Path, new: Path, intersection: bool = False) -> dict[str, list]:
    report = {"compared": [], "differences": [], "one_sided": []}

    def check(kind: str, rel: Path, problem: str | None):
        if intersection and problem and problem.startswith("only in"):
            report["one_sided"].append((kind, str(rel), problem))
            return
        report["compared"].append((kind, str(rel)))
        if problem:
            report["differences"].append((kind, str(rel), problem))

    def files(root: Path, pattern: str) -> set[Path]:
        return {p.relative_to(root) for p in root.glob(pattern)} if root.exists() else set()

    # Run folders and score files.
    for pattern, kind in (("runs/**/metrics.json", "metrics.json"), ("scores/**/*.json", "score file"),
                          ("scoring/**/metrics.json", "metrics.json")):
        ours, theirs = files(old, pattern), files(new, pattern)
        for rel in sorted(ours | theirs):
            if rel not in ours or rel not in theirs:
                check(kind, rel, f"only in {'old' if rel in ours else 'new'}")
                continue
            a, b = _json(old / rel), _json(new / rel)
            if kind == "score file":   # the run's folder path is the same; compare the numbers
                a, b = {k: a[k] for k in ("metrics", "sets")}, {k: b[k] for k in ("metrics", "sets")}
            check(kind, rel, None if a == b else _first_json_difference(a, b))
    for pattern, kind in (("runs/**/*.csv", "run table"), ("tables/*.parquet", "table")):
        ours, theirs = files(old, pattern), files(new, pattern)
        for rel in sorted(ours | theirs):
            if rel not in ours or rel not in theirs:
                check(kind, rel, f"only in {'old' if rel in ours else 'new'}")
                continue
            check(kind, rel, _same_frames(_frame(old / rel), _frame(new / rel)))
    return report


def _first_json_difference(a, b, where="") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}/{key}: only in {'old' if key in a else 'new'}"
            if a[key] != b[key]:
                return _first_json_difference(a[key], b[key], f"{where}/{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_json_difference(x, y, f"{where}[{i}]")
    return f"{where or '/'}: {a!r} != {b!r}"[:300]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path, help="results folder before (e.g. another clone's results/)")
    parser.add_argument("new", type=Path, help="results folder after")
    parser.add_argument("--intersection", action="store_true",
                        help="compare only what both sides have (list the rest)")
    args = parser.parse_args(argv)
    report = compare(args.old, args.new, args.intersection)
    kinds: dict[str, list[int]] = {}
    different = {(kind, rel) for kind, rel, _ in report["differences"]}
    for kind, rel in report["compared"]:
        counts = kinds.setdefault(kind, [0, 0])
        counts[0] += 1
        counts[1] += (kind, rel) not in different
    for kind, (n, same) in kinds.items():
        print(f"{kind:13} {same:5} of {n:5} identical")
    for kind, rel, problem in report["differences"][:50]:
        print(f"DIFFERENT {kind}: {rel}: {problem}")
    if len(report["differences"]) > 50:
        print(f"... and {len(report['differences']) - 50} more")
    if report["one_sided"]:
        sides = {}
        for kind, _, problem in report["one_sided"]:
            sides[(kind, problem)] = sides.get((kind, problem), 0) + 1
        for (kind, problem), n in sorted(sides.items()):
            print(f"not compared: {n} {kind} {problem}")
    print("identical" if not report["differences"] else f"{len(report['differences'])} differences")
    return 1 if report["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
