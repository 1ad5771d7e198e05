"""Re-train finished classifier runs of another results folder with this checkout's code and
compare their metrics.json bytes: does a code change keep the numbers?

    python scripts/retrain_and_compare.py OLD_RESULTS [--per-experiment 2] [--eval-chunk N]

OLD_RESULTS is a results/ folder written by another commit (e.g. a fresh clone's default DAG).
Each picked run is re-trained from its run.json spec in a scratch folder, each seed alone
(seeds_together: auto on a CPU). --eval-chunk sets the evaluation chunk, for comparing against
code from before a chunk change (it only reorders the loss sums).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> int:
    from dlrepro.data import Inputs
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder
    import dlrepro.train.classifier as classifier

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old_results", type=Path)
    parser.add_argument("--per-experiment", type=int, default=2)
    parser.add_argument("--eval-chunk", type=int, default=None)
    args = parser.parse_args()
    if args.eval_chunk:
        classifier.EVAL_CHUNK = args.eval_chunk
    picked: dict[str, list] = {}
    for metrics in sorted(args.old_results.glob("runs/*/*/seed*/metrics.json")):
        spec = json.loads(metrics.with_name("run.json").read_text())["spec"]
        if get(spec["settings"]["model"]).kind == "classifier":
            runs = picked.setdefault(spec["experiment"], [])
            if len(runs) < args.per_experiment:
                runs.append((metrics, {**spec, "seeds_together": "auto"}))
    inputs = Inputs(args.old_results / "data/fashion-mnist.pt")
    same = total = 0
    for runs in picked.values():
        for metrics, spec in runs:
            with tempfile.TemporaryDirectory() as scratch:
                get(spec["settings"]["model"]).train([spec], [RunFolder(scratch)], inputs,
                                                     progress=False)
                identical = Path(scratch, "metrics.json").read_bytes() == metrics.read_bytes()
            same, total = same + identical, total + 1
            print(f"{'identical' if identical else 'DIFFERENT'}  {spec['experiment']}/"
                  f"{spec['variant']}/seed{spec['seed']}", flush=True)
    print(f"{same} of {total} metrics.json identical")
    return 0 if same == total else 1


if __name__ == "__main__":
    sys.exit(main())
