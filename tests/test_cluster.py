"""The cluster-side checks without a cluster: GPUs asked for, and failed jobs named by state."""
import os

import pytest

from dlrepro import cluster, preflight
from dlrepro.errors import ConfigError

LOG = """Job 3 has been submitted with SLURM jobid 7 (log: /w/.snakemake/slurm_logs/group_train_pack_train_dropout/7.log).
Job 4 has been submitted with SLURM jobid 8 (log: /w/.snakemake/slurm_logs/rule_score_vae/8.log).
Job 5 has been submitted with SLURM jobid 9 (log: /w/.snakemake/slurm_logs/rule_train_gan/9.log).
"""


def fake_tool(folder, name, output):
    path = folder / name
    path.write_text(f"#!/bin/sh\nprintf '{output}'\n")
    path.chmod(0o755)


def test_failed_jobs_are_named_with_their_state_and_fix(tmp_path, monkeypatch):
    # squeue still lists two of the jobs; sacct knows the third ("CANCELLED by 0")
    fake_tool(tmp_path, "squeue", "7|TIMEOUT\\n8|COMPLETED\\n")
    fake_tool(tmp_path, "sacct", "9|CANCELLED by 0\\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "run.log").write_text(LOG)
    report = cluster.failure_report([str(tmp_path / "run.log")])
    assert len(report) == 2, report
    assert report[0].startswith("dlrepro: SLURM job 7 TIMEOUT: ran past its time limit: raise "
                                "`runtime`")
    assert "group_train_pack_train_dropout/7.log" in report[0]
    assert report[1].startswith("dlrepro: SLURM job 9 CANCELLED: was cancelled")


def test_no_slurm_tools_means_no_report_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "run.log").write_text(LOG)
    assert cluster.failure_report(tmp_path / "run.log") == []


def test_device_cuda_needs_every_gpu_rule_to_ask_for_a_gpu():
    rules = ["train_dropout", "train_gan"]
    with pytest.raises(ConfigError, match=r"train_gan would be sent to SLURM without a GPU"):
        preflight.check_gpus_requested("cuda", rules, {"mem_mb": 2000},
                                       {"train_dropout": {"gres": "gpu:1"}})
    preflight.check_gpus_requested("cuda", rules, {"gres": "gpu:1"}, {})   # the profile's switch
    preflight.check_gpus_requested("auto", rules, {}, {})                  # falls back to the CPU
