"""The cost planner's own figures for the committed configurations, as a dated record (kind
`plan`): what the README's quick start and docs/performance.md quote as expected times.

    python benchmarks/plan_record.py            # writes benchmarks/results/plan_<date>_<commit>.json

Default profile on this project's 2-core CPU (2 jobs at a time) and on one H100 (the config's
slots_per_gpu jobs at a time), and the full profile on the CPU, each from the cost tables the
configuration names (`plan_costs`).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402

REPO = records.REPO
sys.path.insert(0, str(REPO / "src"))


def main() -> None:
    from dlrepro.config import load_config
    from dlrepro.plan import load_costs, plan

    default = load_config([REPO / "config/config.yaml"])
    full = load_config([REPO / "config/config.yaml", REPO / "config/full.yaml"])

    def wall_minutes(result: dict, at_once: int) -> float:
        return max(result["total"]["seconds"] / at_once, result["max_job_seconds"]) / 60

    on_cpu = plan(default, load_costs(default, "cpu"))
    on_gpu = plan(default, load_costs(default, "cuda"))
    full_cpu = plan(full, load_costs(full, "cpu"))
    slots = default["slots_per_gpu"]
    figures = {
        "default_runs": on_cpu["total"]["runs"],
        "default_cpu_2_jobs_minutes": round(wall_minutes(on_cpu, 2), 1),
        "default_h100_minutes": round(wall_minutes(on_gpu, slots), 1),
        "h100_processes": slots,
        "default_h100_estimated_from_cpu": on_gpu["from_other_device"],
        "full_runs": full_cpu["total"]["runs"],
        "full_cpu_minutes": round(full_cpu["total"]["seconds"] / 60),
        "full_longest_job_minutes": round(full_cpu["max_job_seconds"] / 60),
    }
    figures["summary"] = (
        f"config.yaml: {figures['default_runs']:,} runs, {figures['default_cpu_2_jobs_minutes']} min "
        f"on this CPU (2 jobs), {figures['default_h100_minutes']} min on one H100 "
        f"({slots} processes; {', '.join(on_gpu['from_other_device']) or 'no family'} at the CPU's "
        f"cost); + full.yaml: {figures['full_runs']:,} runs, {figures['full_cpu_minutes']:,} "
        f"CPU-minutes (longest job {figures['full_longest_job_minutes']:,} min)")
    records.write("plan", figures)


if __name__ == "__main__":
    main()
