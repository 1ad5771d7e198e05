"""What a newcomer's two commands cost: `make` (the whole default DAG) or `make test` (CI's
command) from a fresh clone, timed, and written as a dated record under benchmarks/results/.

  python benchmarks/fresh_clone.py --target make   # set-up + DAG: minutes, job-seconds by rule,
                                                   # results size, the report's outcome counts
  python benchmarks/fresh_clone.py --target test   # bash .ci/run: minutes, tests passed

The clone is of a commit of this repository (default HEAD), in a scratch folder, so nothing of
this checkout (its venv, results, weights) is reused. Job-seconds are the sum of each job's wall
time read from Snakemake's log (start and finish stamps of each job id): the steadier figure
to compare two commits by, on the same machine, one after the other. The records feed
docs/performance.md (`python benchmarks/history.py`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402

REPO = records.REPO

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
STARTED = re.compile(r"^(?:local)?(?:rule|checkpoint) (\S+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISHED = re.compile(r"^Finished job(?:id:)? (\d+)")


def job_seconds(log_text: str) -> tuple[dict[str, float], dict[str, int], float]:
    """Per rule: job-seconds and jobs; and the DAG's wall time (first stamp to last), from a
    Snakemake log."""
    stamp, started, rule_of = None, {}, {}
    pending_rule = None
    seconds: dict[str, float] = {}
    jobs: dict[str, int] = {}
    first = last = None
    for line in log_text.splitlines():
        if m := STAMP.match(line.strip()):
            stamp = dt.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            first, last = first or stamp, stamp
        elif m := STARTED.match(line.strip()):
            pending_rule = m.group(1)
        elif (m := JOBID.match(line)) and pending_rule:
            started[m.group(1)], rule_of[m.group(1)] = stamp, pending_rule
            pending_rule = None
        elif (m := FINISHED.match(line.strip())) and m.group(1) in started:
            rule = rule_of[m.group(1)]
            seconds[rule] = seconds.get(rule, 0.0) + (stamp - started.pop(m.group(1))).total_seconds()
            jobs[rule] = jobs.get(rule, 0) + 1
    wall = (last - first).total_seconds() if first else 0.0
    return seconds, jobs, wall


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def report_outcomes(clone: Path) -> dict:
    """Outcome counts of the report's checks and each experiment's verdict."""
    code = ("import json, pandas as pd; from dlrepro.analysis.verdict import verdict; "
            "c = pd.read_parquet('results/tables/checks.parquet'); "
            "print(json.dumps({'checks': c['outcome'].value_counts().to_dict(), "
            "'experiments': {e: verdict(list(g['outcome'])) for e, g in c.groupby('experiment', sort=False)}}))")
    out = subprocess.run([str(clone / ".venv/bin/python"), "-c", code], cwd=clone,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["make", "test"], required=True)
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--workdir", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--out", default=str(records.RESULTS), help="folder of the record")
    parser.add_argument("--shared-machine", action="store_true",
                        help="other work shared the machine: the record says so, and the README's "
                             "expected time skips it")
    parser.add_argument("--note", default="", help="a sentence the record carries (what else ran)")
    args = parser.parse_args()

    commit = subprocess.run(["git", "rev-parse", "--short", args.commit], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.strip()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="dlrepro-fresh-"))
    clone = work / f"clone-{commit}"
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", commit], cwd=clone, check=True)
    command = ["make"] if args.target == "make" else ["bash", ".ci/run"]
    log = work / f"{args.target}-{commit}.log"
    print(f"{' '.join(command)} in {clone} (log: {log})", flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    tic = time.perf_counter()
    with log.open("w") as sink:
        rc = subprocess.run(command, cwd=clone, stdout=sink, stderr=subprocess.STDOUT, env=env).returncode
    minutes = (time.perf_counter() - tic) / 60
    text = log.read_text(errors="replace")

    figures: dict = {"rc": rc, "minutes": round(minutes, 1),
                     **({"shared_machine": True} if args.shared_machine else {}),
                     **({"note": args.note} if args.note else {})}
    if args.target == "make":
        logs = sorted((clone / ".snakemake/log").glob("*.snakemake.log"), key=lambda p: p.stat().st_size)
        seconds, jobs, wall = job_seconds(logs[-1].read_text()) if logs else ({}, {}, 0.0)
        figures |= {"dag_minutes": round(wall / 60, 1), "jobs": sum(jobs.values()),
                    "job_seconds": round(sum(seconds.values())),
                    "job_seconds_by_rule": {r: round(s) for r, s in sorted(seconds.items(), key=lambda x: -x[1])},
                    "results_mb": folder_mb(clone / "results") if (clone / "results").exists() else None}
        if rc == 0:
            figures |= report_outcomes(clone)
    else:
        passed = re.findall(r"(\d+) passed", text)
        figures["tests_passed"] = int(passed[-1]) if passed else None
    path = records.write(f"fresh-clone-{args.target}", figures, code_commit=commit, out=Path(args.out),
                         command=f"python benchmarks/fresh_clone.py --target {args.target}")
    print(path.read_text())
    if rc != 0:
        print(f"{' '.join(command)} failed (rc {rc}); the end of its log:\n{text[-3000:]}", file=sys.stderr)
        sys.exit(rc)


if __name__ == "__main__":
    main()
