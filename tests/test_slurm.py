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
# The project's profile, with faster status polls.
PROFILE = ["--workflow-profile", "profiles/slurm", "--slurm-init-seconds-before-status-checks", "2"]
SUBMIT = "snakemake --workflow-profile profiles/slurm"     # the README's command, verbatim


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
    return re.findall(r"SLURM jobid (\d+)", log)


SACCT_FIELDS = "JobID,State,JobName,AllocCPUS,TimelimitRaw,AllocTRES,Start,End"


def sacct(env, job_id: str, steps: bool = False) -> list[dict]:
    """What SLURM recorded for a job (and its numbered steps: a pack's members)."""
    for _ in range(20):  # a new job can take a few seconds to reach the accounting database
        out = subprocess.run(["sacct", "-n", "-P", "-j", job_id, "-o", SACCT_FIELDS, *([] if steps
                              else ["-X"])], env=env, capture_output=True, text=True).stdout.strip()
        if out:
            rows = [dict(zip(SACCT_FIELDS.split(","), line.split("|"))) for line in out.splitlines()]
            return [r for r in rows if re.fullmatch(rf"{job_id}(\.\d+)?", r["JobID"])]
        time.sleep(1)
    return []


def state(env, job_id: str) -> str:
    return sacct(env, job_id)[0]["State"]


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
    local = {"prepare_data", "prepare_corpus", "prefetch", "aggregate", "report", "all", "plan",
             "total"}
    remote = {rule: int(n) for rule, n in planned.items() if rule not in local}
    # the smoke sizes are short: each experiment's variants train in one job (its pack)
    assert remote["train_dropout_short"] == 1 and remote["train_landscape_short"] == 1, planned
    assert not {"train_dropout", "train_landscape"} & set(remote), planned
    assert 0 < len(ids) < sum(remote.values()), (ids, remote)
    runs = expand_runs(config)
    assert all((root / run.path / "metrics.json").exists() for run in runs)
    jobs = {job_id: sacct(cluster, job_id, steps=True) for job_id in ids}
    assert all(rows[0]["State"] == "COMPLETED" for rows in jobs.values()), jobs
    # readable in squeue/sacct: the profile's job-name prefix
    assert all(rows[0]["JobName"].startswith("dlrepro_") for rows in jobs.values()), jobs
    # Each job has the CPUs of its rule's threads, not a fixed cpus_per_task.
    assert {rows[0]["AllocCPUS"] for rows in jobs.values()} == {str(config["threads_per_run"])}
    # A pack runs its members one after another (the plugin's inner Snakemake has --jobs 1), and
    # asks for what that needs: one member's CPUs and the sum of the members' runtimes.
    # every training rule is in the pack's group (workflow/rules/train.smk), with no line per
    # experiment in the profile: the slice's three training jobs share one allocation
    runtimes = dict(re.findall(r"rule (train_\w+):\n.*?runtime=(\d+)", log.split("Job stats:")[1], re.DOTALL))
    training = [rule for rule in remote if rule.startswith("train_")]
    assert set(runtimes) == set(training), runtimes
    packs = {job_id: [r for r in rows if re.fullmatch(r"\d+\.\d+", r["JobID"])]
             for job_id, rows in jobs.items() if "group_train_pack" in log.split(
                 f"SLURM jobid {job_id} ")[1].split("\n")[0]}
    assert packs and sum(len(members) for members in packs.values()) == len(training), packs
    for job_id, members in packs.items():
        assert int(jobs[job_id][0]["TimelimitRaw"]) == sum(int(r) for r in runtimes.values())
        assert all(a["End"] <= b["Start"] for a, b in zip(members, members[1:])), members


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


def as_default_config(root: Path, config_yaml: str) -> None:
    """config_yaml (merged over the default's top keys) becomes config/config.yaml itself, so
    that the README's commands run as written, without --configfile."""
    import yaml

    from dlrepro.config import deep_merge

    only_dropout(root)
    default = yaml.safe_load((root / "config/config.yaml").read_text())
    (root / "config/config.yaml").write_text(
        yaml.safe_dump(deep_merge(default, yaml.safe_load(config_yaml))))


def wait_for(condition, what: str, seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_requeued_then_cancelled_job_resumes_to_identical_metrics(cluster, tmp_path):
    # The README's submit command as written, on a config/config.yaml of one slow run that
    # trains on two threads. SLURM requeues the running job (as on preemption: same job id, run
    # again); once it has resumed, it is cancelled, and Snakemake resubmits it (retries).
    root = workflow_with(tmp_path, "{}\n")
    as_default_config(root, SLOW_RUN.replace("epochs: 6", "epochs: 4") + "threads_per_run: 2\n")
    config = load_config([root / "config/config.yaml"])
    run = expand_runs(config)[0]
    run_dir = root / run.path
    logs = root / "results/logs/train/dropout"
    attempt1 = logs / f"{run.variant}.attempt1.log"
    snakemake = subprocess.Popen(SUBMIT.split(), cwd=root, env=cluster, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    wait_for((run_dir / "checkpoint.pt").exists, "the first checkpoint")
    (job,) = subprocess.run(["squeue", "-h", "-o", "%i"], env=cluster, capture_output=True,
                            text=True).stdout.split()
    # which rule a job runs, without AccountingStoreFlags=job_comment (docs/cluster.md)
    comment = subprocess.run(["squeue", "-h", "-j", job, "-o", "%k"], env=cluster,
                             capture_output=True, text=True).stdout.strip()
    assert comment.startswith("rule_") and "train_dropout" in comment, comment   # (a pack: its group first)
    subprocess.run(["scontrol", "requeue", job], env=cluster, check=True)
    # SLURM holds a requeued job for two minutes; let it start at once
    wait_for(lambda: subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=cluster,
                                    capture_output=True, text=True).stdout.strip() == "PENDING",
             "the requeued job to be pending", 60)
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], env=cluster,
                   check=True)
    wait_for(lambda: attempt1.exists() and "resuming" in attempt1.read_text(),
             "the requeued job to resume")
    subprocess.run(["scancel", job], env=cluster, check=True)
    log, _ = snakemake.communicate(timeout=2400)
    assert snakemake.returncode == 0, log[-5000:]

    ids = slurm_job_ids(log)
    assert len(ids) == 2 and ids[0] == job, "the cancelled job was not resubmitted"
    history = subprocess.run(["sacct", "-n", "-X", "-D", "-P", "-j", job, "-o", "State"],
                             env=cluster, capture_output=True, text=True).stdout.split("\n")
    assert history[0] == "REQUEUED" and history[1].startswith("CANCELLED"), history
    assert state(cluster, ids[-1]) == "COMPLETED"
    assert {sacct(cluster, job_id)[0]["AllocCPUS"] for job_id in ids} == {"2"}   # = its threads
    # each run of the job resumed from the checkpoint; the cancelled attempt's log is kept
    assert "resuming" in (logs / f"{run.variant}.log").read_text()
    assert "resuming" in attempt1.read_text()

    reference = train_run(run.spec(config), tmp_path / "uninterrupted",
                          root / "results/data/fashion-mnist.pt")
    assert (run_dir / "metrics.json").read_bytes() == (
        tmp_path / "uninterrupted/metrics.json").read_bytes()
    assert reference["status"] == "ok"


def test_device_cuda_without_a_gpu_stops_before_anything_is_submitted(cluster, tmp_path):
    # A config error is not a job failure to retry: nothing reaches SLURM.
    root = workflow_with(tmp_path, SLOW_RUN.replace("seeds: [0]", "seeds: [0]\ndevice: cuda"))
    only_dropout(root)
    result = run_snakemake(root, cluster, "--configfile", "test.yaml")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert slurm_job_ids(log) == []
    assert "device: cuda, but train_dropout" in log and "gres" in log
    assert not (root / "results/runs").exists()


# The profile's GPU switch, as its comment says: uncomment `gres` under default-resources.
GPU_SWITCH = ('  # gres: "gpu:1"\n', '  gres: "gpu:1"\n')


def with_gpu_switch(root: Path) -> None:
    profile = root / "profiles/slurm/config.yaml"
    text = profile.read_text()
    assert GPU_SWITCH[0] in text, "the profile's GPU example changed: update this test"
    profile.write_text(text.replace(*GPU_SWITCH))


def test_timeout_is_named_and_the_run_resumes_later_on_gpu_nodes(cluster, tmp_path):
    # Every job on a (fake) GPU node through the profile's one-line switch; device auto runs on
    # the CPU there. The job outlives its one-minute limit: SLURM's TIMEOUT reaches the log.
    # Short epochs (a checkpoint every fraction of a second) and many of them: a checkpoint is
    # written long before the limit even on a loaded machine, the end never comes before it.
    root = workflow_with(tmp_path, SLOW_RUN.replace("train_size: 6000, epochs: 6",
                                                    "train_size: 1000, epochs: 2000"))
    only_dropout(root)
    with_gpu_switch(root)
    run = expand_runs(load_config([root / "config/config.yaml", root / "test.yaml"]))[0]
    result = run_snakemake(root, cluster, "--configfile", "test.yaml", "--retries", "0",
                           "--set-resources", "train_dropout:runtime=1")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    ids = slurm_job_ids(log)
    assert len(ids) == 1, log[-3000:]
    record = sacct(cluster, ids[0])[0]
    assert record["State"] == "TIMEOUT" and record["TimelimitRaw"] == "1", record
    assert "gres/gpu=1" in record["AllocTRES"], record
    assert f"SLURM job {ids[0]} TIMEOUT: ran past its time limit" in log    # by name, with the fix
    # killed mid-run: its checkpoint and its attempt's log stay for the next run to resume
    assert (root / run.path / "checkpoint.pt").exists()
    assert "train_loss" in (root / f"results/logs/train/dropout/{run.variant}.attempt1.log").read_text()


TWO_TOYS = """
seeds: [0]
pack_seconds: 0      # one job per variant: the two jobs form one SLURM pack (a group)
experiments:
  landscape:
    base: {model: surface, lr: 0.02, steps: 50, starts: [[5.0, 3.0]], start_jitter: 0.1,
           tolerance: 0.001}
    grid: {surface: [ravine], optimizer: [sgd, adam]}
determinism_check: {enabled: false}
"""


def test_a_failed_pack_keeps_its_finished_members(cluster, tmp_path):
    # Two toy runs in one pack; the pack is cancelled as soon as its first member has finished.
    root = workflow_with(tmp_path, TWO_TOYS)
    only_dropout(root)
    config = load_config([root / "config/config.yaml", root / "test.yaml"])
    runs = expand_runs(config)
    assert len(runs) == 2
    snakemake = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *PROFILE, "--configfile", "test.yaml", "--retries",
         "0", "--group-components", "train_pack=2"], cwd=root, env=cluster,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    metrics = [root / run.path / "metrics.json" for run in runs]
    deadline = time.time() + 300
    while not any(m.exists() for m in metrics) and time.time() < deadline:
        time.sleep(0.1)
    subprocess.run(["scancel", "-u", "root"], env=cluster, check=True)
    log, _ = snakemake.communicate(timeout=600)
    assert snakemake.returncode != 0
    (pack,) = slurm_job_ids(log)
    assert "group_train_pack" in log and f"SLURM job {pack} CANCELLED" in log
    finished = [m for m in metrics if m.exists()]
    assert len(finished) == 1, log[-3000:]        # the finished member survived its pack's end
    json.loads(finished[0].read_text())
    # and the next run trains only the other one
    dry = run_snakemake(root, cluster, "--configfile", "test.yaml", "-n")
    assert re.search(r"^train_landscape\s+1\s*$", dry.stdout, re.MULTILINE), dry.stdout[-3000:]


def test_a_memory_kill_is_named_and_its_retry_asks_for_more(cluster, tmp_path):
    # The harness enforces memory (JobAcctGatherParams=OverMemoryKill): a pack asking for 40 MB
    # is killed while Python starts. dlrepro names the memory kill (sacct says only FAILED) with
    # the mem_mb fix, and the retry asks for twice the memory, as the profile's default does.
    root = workflow_with(tmp_path, TWO_TOYS)
    only_dropout(root)
    result = run_snakemake(root, cluster, "--configfile", "test.yaml", "--retries", "1",
                           "--group-components", "train_pack=2",
                           "--set-resources", "train_landscape:mem_mb=40*attempt")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    ids = slurm_job_ids(log)
    assert len(ids) == 2, log[-3000:]
    asked = [subprocess.run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "ReqMem"], env=cluster,
                            capture_output=True, text=True).stdout.strip() for job_id in ids]
    assert asked == ["40M", "80M"], asked
    for job_id in ids:
        assert re.search(rf"SLURM job {job_id} OUT_OF_MEMORY \(state \w+; its log: \"[^\"]*exceeded "
                         r"memory limit", log), log[-3000:]
    assert "raise `mem_mb`" in log


def test_a_partition_that_does_not_exist_stops_before_submission(cluster, tmp_path):
    root = workflow_with(tmp_path, TWO_TOYS)
    only_dropout(root)
    result = run_snakemake(root, cluster, "--configfile", "test.yaml",
                           "--set-resources", "train_landscape:slurm_partition=nonesuch")
    log = result.stdout + result.stderr
    assert result.returncode != 0 and slurm_job_ids(log) == []
    assert "slurm_partition 'nonesuch' (set-resources: train_landscape" in log
    assert "sinfo lists: debug" in log
    assert not (root / "results/runs").exists()


def test_a_packed_rule_asking_for_less_memory_is_told(tmp_path):
    # two training rules in the pack: landscape's asks for 100 MB, dropout's for the default
    root = workflow_with(tmp_path, TWO_TOYS.replace("experiments:\n", "experiments:\n  dropout:\n"
                                                    "    base: {model: mlp, hidden: [16], epochs: 1}\n"))
    only_dropout(root)
    dry = subprocess.run([sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/slurm",
                          "--configfile", "test.yaml", "--set-resources", "train_landscape:mem_mb=100",
                          "-n"], cwd=root, env=tool_env(), capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert ("train_landscape asks for mem_mb 100, but it is packed in group train_pack, whose SLURM "
            "job gets its largest member's request (4000 MB)") in dry.stderr


def readme_commands() -> list[str]:
    """The commands of the README's SLURM section, as a user copies them."""
    section = (REPO / "README.md").read_text().split("## On a SLURM cluster or a GPU box")[1]
    block = section.split("```bash\n")[1].split("```")[0]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_slurm_commands_are_the_tested_ones(tmp_path):
    # `snakemake prefetch` runs as written in tests/test_workflow.py, the submit command as
    # written in the cancel test above; the GPU-box command is a dry run here (no GPU in CI).
    prefetch, submit, gpu_box = readme_commands()
    assert (prefetch, submit) == ("snakemake prefetch", SUBMIT)
    root = workflow_with(tmp_path, "{}\n")
    dry = subprocess.run([sys.executable, "-m", *gpu_box.split(), "-n"], cwd=root,
                         env=tool_env(), capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    # make slurm: those two, and nothing that needs root or Debian (a login node)
    make = subprocess.run(["make", "-n", "--no-print-directory", "slurm"], cwd=REPO,
                          capture_output=True, text=True)
    assert make.stdout.splitlines()[-2:] == [prefetch, submit], make.stdout
    assert "apt-get" not in make.stdout and "ensure-system-packages" not in make.stdout


def test_the_profiles_one_rule_gpu_example_builds_its_dag(tmp_path):
    # The three GPU-RULE lines uncommented as the profile says: cnn-vs-mlp's jobs ask for a GPU
    # and form their own packs (mixed with CPU jobs, Snakemake refuses the group at dry run).
    root = workflow_with(tmp_path, "{}\n")
    profile = root / "profiles/slurm/config.yaml"
    lines = profile.read_text().splitlines()
    marked = [i for i, line in enumerate(lines) if re.search(r"#.*# GPU-RULE", line)]
    assert len(marked) == 4, "the profile's GPU example changed: update this test"
    for i in marked:
        lines[i] = lines[i].replace("# ", "", 1)
    profile.write_text("\n".join(lines) + "\n")
    dry = subprocess.run([sys.executable, "-m", "snakemake", "--workflow-profile",
                          "profiles/slurm", "-n"], cwd=root, env=tool_env(), capture_output=True,
                         text=True, timeout=600)
    log = dry.stdout + dry.stderr
    assert dry.returncode == 0, log[-3000:]
    blocks = re.split(r"\n\s*(?:local)?rule ", log)[1:]          # one per job shown
    gpu_rules = {block.split(":")[0] for block in blocks if "gres=gpu:1" in block.split("\n\n")[0]}
    assert gpu_rules == {"train_cnn_vs_mlp"}, gpu_rules
