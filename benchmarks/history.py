"""Regenerate the measured figures the docs quote, from the records under benchmarks/results/.

  python benchmarks/history.py           # rewrite the generated blocks of README.md and docs/
  python benchmarks/history.py --check   # exit 1 (naming the block) when a block is out of date

A generated block sits between `<!-- begin generated: NAME -->` and `<!-- end generated: NAME -->`;
everything outside the markers is hand-written. No number inside a block is typed by hand.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402

REPO = records.REPO
BLOCK = re.compile(r"(<!-- begin generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
                   re.DOTALL)


def _minutes(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _count(value) -> str:
    return "—" if value is None else f"{value:,}"


def _outcomes(figures: dict) -> str:
    checks = figures.get("checks") or {}
    order = ["supports", "unclear", "contradicts", "did not learn", "not measured"]
    return ", ".join(f"{checks[k]} {k}" for k in order if checks.get(k)) or "—"


def _machine(record: dict) -> str:
    m = record.get("machine") or {}
    return m.get("gpu") or f"{m.get('cores', '?')}-core CPU"


def _latest_quiet(kind: str, folder: Path) -> dict | None:
    """The newest record of a run that had the machine to itself (shared_machine not set)."""
    quiet = [r for r in records.load(kind, folder) if not r["figures"].get("shared_machine")
             and r["figures"].get("minutes")]
    return quiet[-1] if quiet else None


def quickstart_time(folder: Path) -> str:
    make, test = _latest_quiet("fresh-clone-make", folder), _latest_quiet("fresh-clone-test", folder)
    lines = []
    if make:
        f = make["figures"]
        lines.append(f"On a {_machine(make)} `make` took **{_minutes(f['minutes'])} minutes** from a fresh clone "
                     f"(the DAG {_minutes(f.get('dag_minutes'))} of them, {make['date']}, commit "
                     f"`{make['commit']}`)")
    if test:
        lines.append(f"`make test` {_minutes(test['figures']['minutes'])} minutes "
                     f"({test['date']}, commit `{test['commit']}`)")
    text = "; ".join(lines) + "." if lines else "No fresh-clone measurement is recorded yet."
    plan = records.latest("plan", folder)
    gpu = (plan["figures"].get("default_h100_minutes", plan["figures"].get("default_h100_8_processes_minutes"))
           if plan else None)
    if gpu is not None:
        text += (f" On one H100 the cost planner expects the default DAG's training to take about "
                 f"{gpu:.0f} minutes ({plan['date']}; no DAG has been timed end to end on a GPU yet).")
    return text + "\n"


def latest_make(folder: Path) -> str:
    make = records.latest("fresh-clone-make", folder)
    if not make:
        return "No fresh-clone `make` is recorded yet.\n"
    f = make["figures"]
    rows = sorted((f.get("job_seconds_by_rule") or {}).items(), key=lambda kv: -kv[1])
    head = (f"`{make['command']}`, {make['date']}, commit `{make['commit']}`, {_machine(make)} "
            f"({make['machine'].get('cpu', '')}): `make` {_minutes(f['minutes'])} minutes, the DAG "
            f"{_minutes(f.get('dag_minutes'))} minutes, {_count(f.get('jobs'))} jobs, "
            f"**{_count(f.get('job_seconds'))} job-seconds**, results {f.get('results_mb', '—')} MB; "
            f"the report's checks: {_outcomes(f)}.{' Note: ' + f['note'] + '.' if f.get('note') else ''}\n\n")
    table = ["| rule | job-seconds | share |", "|---|---|---|"]
    total = sum(s for _, s in rows) or 1
    for rule, seconds in rows[:15]:
        table.append(f"| `{rule}` | {seconds:,} | {100 * seconds / total:.0f} % |")
    if len(rows) > 15:
        rest = sum(s for _, s in rows[15:])
        table.append(f"| {len(rows) - 15} other rules | {rest:,} | {100 * rest / total:.0f} % |")
    return head + "\n".join(table) + "\n"


def history(folder: Path) -> str:
    table = ["| date | commit | command | machine | minutes | DAG minutes | jobs | job-seconds | results MB | checks | tests | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records.load(None, folder):
        if not r["kind"].startswith("fresh-clone-"):
            continue
        f = r["figures"]
        target = "make" if r["kind"] == "fresh-clone-make" else "make test"
        table.append(f"| {r['date']} | `{r['commit']}` | {target} | {_machine(r)} | {_minutes(f.get('minutes'))} | "
                     f"{_minutes(f.get('dag_minutes'))} | {_count(f.get('jobs'))} | {_count(f.get('job_seconds'))} | "
                     f"{f.get('results_mb') or '—'} | {_outcomes(f) if 'checks' in f else '—'} | "
                     f"{_count(f.get('tests_passed'))} | {f.get('note', '')} |")
    return "\n".join(table) + "\n"


def _plain(figures: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in figures.items())


def _gpu_dag(figures: dict) -> str:
    from gpu_dag import summary
    return summary(figures)


SUMMARIES = {"gpu-dag": _gpu_dag}     # kinds whose figures are too nested for one line


def benchmarks(folder: Path) -> str:
    latest: dict[str, dict] = {}
    for r in records.load(None, folder):
        if not r["kind"].startswith("fresh-clone-"):
            latest[r["kind"]] = r
    table = ["| benchmark | result | command | date, commit, machine |", "|---|---|---|---|"]
    for kind, r in sorted(latest.items()):
        summary = (r["figures"].get("summary") or SUMMARIES.get(kind, _plain)(r["figures"]))
        table.append(f"| {kind} | {summary} | `{r['command']}` | {r['date']}, `{r['commit']}`, {_machine(r)} |")
    return "\n".join(table) + "\n"


def experiment_verdicts(folder: Path) -> dict[str, str]:
    """Each experiment's verdict in the newest fresh-clone `make` that has them."""
    found = [r for r in records.load("fresh-clone-make", folder) if r["figures"].get("experiments")]
    return found[-1]["figures"]["experiments"] if found else {}


PROFILES = {"config.yaml": "laptop CPU, the default of `make` / `snakemake`",
            "full.yaml": "paper scale: full data, 5 seeds, long training (GPU box or SLURM)",
            "smoke.yaml": "tests: tiny subsets, 1 epoch"}


def _runs(profile: str) -> list:
    from dlrepro.config import expand_runs, load_config

    files = [REPO / "config/config.yaml"] + ([REPO / "config" / profile] if profile != "config.yaml" else [])
    return expand_runs(load_config(files))


def default_runs(folder: Path) -> str:
    runs = _runs("config.yaml")
    return (f"The default profile has {len(runs)} runs in {len({r.experiment for r in runs})} experiments "
            "(`dlrepro validate-config config/config.yaml` counts them).\n")


def run_counts(folder: Path) -> str:
    table = ["| file | for | runs |", "|---|---|---|"]
    for profile, purpose in PROFILES.items():
        table.append(f"| `{profile}` | {purpose} | {len(_runs(profile))} |")
    return "\n".join(table) + "\n"


BLOCKS = {"quickstart-time": quickstart_time, "latest-make": latest_make, "history": history,
          "benchmarks": benchmarks, "default-runs": default_runs, "run-counts": run_counts}
FILES = ["README.md", "docs/performance.md", "config/README.md"]


def regenerate(text: str, folder: Path) -> str:
    def fill(m: re.Match) -> str:
        if m.group("name") not in BLOCKS:
            raise SystemExit(f"unknown generated block '{m.group('name')}' (known: {', '.join(BLOCKS)})")
        return m.group(1) + BLOCKS[m.group("name")](folder) + m.group(4)
    return BLOCK.sub(fill, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args()
    stale = []
    for name in FILES:
        path = REPO / name
        old = path.read_text()
        new = regenerate(old, records.RESULTS)
        if new != old:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        raise SystemExit(f"generated blocks out of date in {', '.join(stale)}: run python benchmarks/history.py")
    print("up to date" if not stale else f"rewrote {', '.join(stale)}")


if __name__ == "__main__":
    main()
