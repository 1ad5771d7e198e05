"""Through a real SLURM cluster on localhost (Debian's slurm-wlm, started by tests/slurm_local/).

No mock of sbatch: Snakemake submits with snakemake-executor-plugin-slurm using the project's own
profile (profiles/slurm), and we read what SLURM recorded with sacct.
"""
import json
import re
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlrepro.config import expand_runs, load_config
from tests.conftest import REPO, copy_workflow, tool_env, train_run

pytestmark = [pytest.mark.slow, pytest.mark.slurm]
HARNESS = REPO / "tests" / "slurm_local"
# The project's profile, with faster status polls and groups that fit this 2-core node (a group
# of N training jobs asks for N cores).
PROFILE = ["--workflow-profile", "profiles/slurm",
           "--slurm-init-seconds-before-status-checks", "2", "--group-components", "train_pack=2"]


def free_port_base(start: int = 16817, span: int = 4) -> int:
    """A base port with `span` free ports after it (the harness uses base .. base+3)."""
    import socket

    for base in range(start, start + 1000, 10):
        try:
            for port in range(base, base + span):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports for the test cluster")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the SLURM tests start a local cluster and need root")
    state = tmp_path_factory.mktemp("slurm-state")
    env = {**tool_env(), "SLURM_LOCAL_DIR": str(state),
           "SLURM_LOCAL_PORT_BASE": str(free_port_base())}
    started = subprocess.run(["bash", str(HARNESS / "start-cluster.sh")], env=env,
                             capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stderr[-3000:]
    for line in started.stdout.splitlines():  # export NAME=value lines
        name, value = line.removeprefix("export ").split("=", 1)
        env[name] = value.replace("$PATH", env["PATH"])
    yield env
    subprocess.run(["bash", str(HARNESS / "stop-cluster.sh"), "--purge"], env=env,
                   capture_output=True, timeout=120)


def workflow_with(tmp_path: Path, config_yaml: str) -> Path:
    copy_workflow(tmp_path)
    (tmp_path / "test.yaml").write_text(config_yaml)
    return tmp_path


def run_snakemake(cwd, env, *args, timeout=2400):
    return subprocess.run([sys.executable, "-m", "snakemake", *PROFILE, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def slurm_job_ids(log: str) -> list[str]:
    import re
    return re.findall(r"SLURM jobid (\d+)", log)


def sacct(env, job_id: str) -> list[str]:
    for _ in range(20):  # a new job can take a few seconds to reach the accounting database
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "JobID,State,JobName"],
                             env=env, capture_output=True, text=True).stdout.strip()
        if out:
            return out.split("|")
        time.sleep(1)
    return []


# A slice of the smoke DAG with every kind of job: packed training (dropout, landscape), an image
# experiment with its feature classifier and scoring, the determinism check, tables and report.
SLURM_EXPERIMENTS = ("dropout", "landscape", "autoencoder")


def smoke_slice(root: Path) -> Path:
    """config/slurm-smoke.yaml: the smoke settings of SLURM_EXPERIMENTS, over an empty default."""
    import yaml

    from dlrepro.config import deep_merge

    default, smoke = (yaml.safe_load((root / f"config/{name}.yaml").read_text())
                      for name in ("config", "smoke"))
    merged = deep_merge(default, smoke)
    merged["experiments"] = {e: merged["experiments"][e] for e in SLURM_EXPERIMENTS}
    only_dropout(root)   # the default's experiments would be merged back in otherwise
    (root / "config/slurm-smoke.yaml").write_text(yaml.safe_dump(merged))
    return root / "config/slurm-smoke.yaml"


def test_smoke_dag_runs_through_the_slurm_plugin(cluster, tmp_path):
    root = workflow_with(tmp_path, "{}\n")
    overlay = smoke_slice(root)
    result = run_snakemake(root, cluster, "--configfile", str(overlay.relative_to(root)))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    assert (root / "report/index.html").exists()
    ids = slurm_job_ids(log)
    config = load_config([root / "config/config.yaml", overlay])
    assert set(config["experiments"]) == set(SLURM_EXPERIMENTS)
    # Every training, scoring and check job went to SLURM (the rest are local rules), and the
    # packed training jobs shared allocations: fewer SLURM jobs than such jobs.
    planned = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", log.split("Job stats:")[1].split("\n\n")[0],
                              re.MULTILINE))
    local = {"prepare_data", "prepare_corpus", "prefetch", "aggregate", "report", "all", "total"}
    remote = {rule: int(n) for rule, n in planned.items() if rule not in local}
    assert remote["train_dropout"] == 2 and remote["train_landscape"] == 4, planned
    assert 0 < len(ids) < sum(remote.values()), (ids, remote)
    runs = expand_runs(config)
    assert all((root / run.path / "metrics.json").exists() for run in runs)
    records = [sacct(cluster, job_id) for job_id in ids]
    assert [r[1] for r in records] == ["COMPLETED"] * len(ids), records
    # readable in squeue/sacct: the profile's job-name prefix
    assert all(r[2].startswith("dlrepro_") for r in records), records


SLOW_RUN = """
seeds: [0]
experiments:
  dropout:
    base: {model: mlp, hidden: [512, 512], train_size: 6000, epochs: 6, batch_size: 16, dropout: 0.2}
determinism_check: {enabled: false}
data: {validation_size: 500, test_size: 500}
"""


def only_dropout(root: Path) -> None:
    """The test config replaces the default experiments (deep merge would keep them)."""
    default = root / "config/config.yaml"
    text = default.read_text()
    default.write_text(text[:text.index("experiments:")] + "experiments: {}\n")


def test_cancelled_job_is_resubmitted_and_resumes_to_identical_metrics(cluster, tmp_path):
    root = workflow_with(tmp_path, SLOW_RUN)
    only_dropout(root)
    config = load_config([root / "config/config.yaml", root / "test.yaml"])
    run = expand_runs(config)[0]
    run_dir = root / run.path
    snakemake = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *PROFILE, "--configfile", "test.yaml"], cwd=root,
        env=cluster, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while not (run_dir / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert (run_dir / "checkpoint.pt").exists(), "training never started"
    running = subprocess.run(["squeue", "-h", "-o", "%i"], env=cluster, capture_output=True,
                             text=True).stdout.split()
    assert running, "no SLURM job to cancel"
    subprocess.run(["scancel", *running], env=cluster, check=True)
    log, _ = snakemake.communicate(timeout=2400)
    assert snakemake.returncode == 0, log[-5000:]

    ids = slurm_job_ids(log)
    assert len(ids) >= 2, "the cancelled job was not resubmitted"
    assert sacct(cluster, ids[0])[1].startswith("CANCELLED")
    assert sacct(cluster, ids[-1])[1] == "COMPLETED"
    assert "resuming" in (root / f"results/logs/train/dropout/{run.variant}.log").read_text()

    reference = train_run(run.spec(config), tmp_path / "uninterrupted",
                          root / "results/data/fashion-mnist.pt")
    assert json.loads((run_dir / "metrics.json").read_text()) == json.loads(
        (tmp_path / "uninterrupted/metrics.json").read_text())
    assert (run_dir / "metrics.json").read_bytes() == (
        tmp_path / "uninterrupted/metrics.json").read_bytes()
    assert reference["status"] == "ok"


def test_failing_job_is_retried_and_its_error_reaches_the_log(cluster, tmp_path):
    # device: cuda on a node without CUDA fails inside the job, on every attempt.
    root = workflow_with(tmp_path, SLOW_RUN.replace("seeds: [0]", "seeds: [0]\ndevice: cuda")
                         .replace("epochs: 6", "epochs: 1"))
    only_dropout(root)
    result = run_snakemake(root, cluster, "--configfile", "test.yaml", "--retries", "1")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    ids = slurm_job_ids(log)
    assert len(ids) == 2, log[-3000:]  # the first attempt and one retry
    assert all(sacct(cluster, job_id)[1] == "FAILED" for job_id in ids)
    assert "no CUDA device is visible" in log
