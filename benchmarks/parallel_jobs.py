"""Wall time of the DAG with 1 vs N concurrent jobs (local executor), as a ratio.

Each setting runs in its own fresh copy of the workflow (nothing cached but the prepared data),
so both do the same work. The default config is the whole default DAG; --configfile picks another.

  python benchmarks/parallel_jobs.py --jobs 2                       # default DAG, 1 vs 2 jobs
  python benchmarks/parallel_jobs.py --jobs 2 --configfile config/smoke.yaml
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import records  # noqa: E402


def run_dag(cores: int, extra: list[str], data: Path | None) -> float:
    with tempfile.TemporaryDirectory(prefix=f"dlrepro-bench-{cores}-") as tmp:
        root = Path(tmp)
        for name in ("Snakefile", "workflow", "config", "benchmarks/results"):
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
        if data is not None:  # the prepared data set is not what we time
            (root / "results/data").mkdir(parents=True)
            shutil.copy(data, root / "results/data/fashion-mnist.pt")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        tic = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), "-q",
                                 *extra], cwd=root, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"snakemake --cores {cores} failed:\n{result.stderr[-3000:]}")
        return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--configfile", help="merged over config/config.yaml")
    parser.add_argument("--record", action="store_true",
                        help="also write a dated record under benchmarks/results/")
    args = parser.parse_args()
    extra = ["--configfile", args.configfile] if args.configfile else []
    data = REPO / "results/data/fashion-mnist.pt"
    serial = run_dag(1, extra, data if data.exists() else None)
    parallel = run_dag(args.jobs, extra, data if data.exists() else None)
    result = {"config": args.configfile or "config/config.yaml", "jobs": args.jobs,
              "serial_s": round(serial, 1), "parallel_s": round(parallel, 1),
              "speedup": round(serial / parallel, 2)}
    print(json.dumps(result, indent=2))
    if args.record:
        records.write("parallel-jobs", {"summary": f"{result['config']}: {serial:,.0f} s with one job at a time, "
                                                   f"{parallel:,.0f} s with {args.jobs} ({serial / parallel:.2f}×)", **result})


if __name__ == "__main__":
    main()
