"""What SLURM did to the jobs of a failed run, by name: TIMEOUT, OUT_OF_MEMORY, CANCELLED, ...

snakemake-executor-plugin-slurm knows why a job failed, but Snakemake 9 drops its message for a
group job (a pack of trainings): the log says only "Error in group train_pack". So when a run
fails, the Snakefile's onerror handler asks SLURM about every job the run submitted and prints
those that did not complete, each with what to change.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

# What a user changes for each state (profiles/slurm/config.yaml; training resumes from its
# checkpoint whatever stopped it).
ADVICE = {
    "TIMEOUT": "ran past its time limit: raise `runtime` (minutes) for its rule under "
               "set-resources in profiles/slurm/config.yaml, or pack fewer jobs (group-components)",
    "OUT_OF_MEMORY": "ran out of memory: raise `mem_mb` (MB) for its rule under set-resources in "
                     "profiles/slurm/config.yaml (the profile's default asks 4000 x the attempt "
                     "number, so a retry asks for more)",
    "CANCELLED": "was cancelled (scancel, or preempted without requeue)",
    "NODE_FAIL": "lost its node: run again (failed nodes are excluded)",
    "BOOT_FAIL": "could not start on its node: run again",
    "DEADLINE": "reached its deadline",
    "PREEMPTED": "was preempted",
    "FAILED": "exited with an error: its log says which",
}


def submitted_jobs(log_text: str) -> dict[str, str]:
    """SLURM job id -> its SLURM log, from a Snakemake log."""
    return dict(re.findall(r"SLURM jobid (\d+) \(log: ([^)]+)\)", log_text))


def _query(command: list[str]) -> dict[str, str]:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if out.returncode != 0:
        return {}
    rows = (line.split("|") for line in out.stdout.splitlines() if "|" in line)
    # sacct writes "CANCELLED by 0": the state is the first word
    return {job_id: state.split()[0] for job_id, state, *_ in rows if state.strip()}


def job_states(job_ids: list[str]) -> dict[str, str]:
    """The final state of each job: squeue while SLURM still lists it (MinJobAge), else sacct."""
    if not job_ids:
        return {}
    ids = ",".join(job_ids)
    states = _query(["squeue", "-h", "-t", "all", "-j", ids, "-o", "%i|%T"])
    missing = [job_id for job_id in job_ids if job_id not in states]
    if missing:
        states.update(_query(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j",
                              ",".join(missing)]))
    return states


# What SLURM writes into a job's log when it kills the job for its memory: the accounting
# plugin's OverMemoryKill ("exceeded memory limit (2200604672 > 2097152000), being killed"),
# cgroup's OOM killer ("oom-kill event", "Detected 1 oom_kill event"). sacct then may say only
# FAILED, or OUT_OF_MEMORY under cgroups.
MEMORY_KILL = re.compile(r"exceeded memory limit|oom[-_ ]kill|out of memory", re.IGNORECASE)


def memory_kill(log_path: str | Path) -> str | None:
    """The line of a SLURM log that says the job was killed for its memory, or None."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return None
    return next((line.strip() for line in text.splitlines() if MEMORY_KILL.search(line)), None)


def failure_report(snakemake_logs) -> list[str]:
    """One line per submitted job that did not complete, naming its SLURM state. Takes the
    Snakemake log file(s) (onerror's `log` is a list of them)."""
    if isinstance(snakemake_logs, (str, Path)):
        snakemake_logs = [snakemake_logs]
    jobs = {}
    for path in snakemake_logs or []:
        if Path(path).is_file():
            jobs.update(submitted_jobs(Path(path).read_text(errors="replace")))
    states = job_states(list(jobs))
    lines = []
    for job_id, state in states.items():
        if state in ("COMPLETED", "RUNNING", "PENDING", "COMPLETING"):
            continue
        killed = memory_kill(jobs[job_id]) if state != "OUT_OF_MEMORY" else None
        if killed:      # sacct says FAILED, the log says why
            lines.append(f"dlrepro: SLURM job {job_id} OUT_OF_MEMORY (state {state}; its log: "
                         f"\"{killed}\"): {ADVICE['OUT_OF_MEMORY']} (SLURM log: {jobs[job_id]})")
        else:
            lines.append(f"dlrepro: SLURM job {job_id} {state}: {ADVICE.get(state, 'see its log')} "
                         f"(SLURM log: {jobs[job_id]})")
    return lines
