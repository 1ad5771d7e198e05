"""The prepared GPU check runs end to end in its tiny mode on the CPU, so that the first time a
GPU is available it works at once."""
import json
import os
import subprocess
import sys
from pathlib import Path

from dlrepro.families import get

from tests.conftest import REPO, tool_env


def test_gpu_check_tiny_mode_end_to_end(tmp_path):
    """benchmarks/gpu_check.sh --tiny: the same two scripts a GPU machine runs, small, on CPU."""
    env = {**tool_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(REPO / "benchmarks/gpu_check.sh"), "--tiny", "--device", "cpu",
                             "--out", str(tmp_path), "--corpus", "none"],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    # the DAG part: both DAGs ran, every run on the device it should have, jobs timed beside the plan
    [dag] = list(tmp_path.glob("gpu-dag_*.json"))
    figures = json.loads(dag.read_text())["figures"]
    assert figures["ok"] and figures["device"] == "cpu"
    for part in (figures["smoke"], figures["slice"]):
        assert part["rc"] == 0 and part["devices"]["runs"] > 0 and part["devices"]["wrong_device"] == []
    families = figures["slice"]["devices"]["devices_by_family"]
    assert families["backprop"][0].endswith(f"(CPU only: {get('backprop').cpu_only})")
    assert families["transformer"] == [figures["slice"]["devices"]["expected"]]
    for row in figures["slice"]["rules"]:
        assert row["jobs"] >= 1 and row["seconds"] > 0 and row["planned_cpu_seconds"] > 0
    [report] = list(tmp_path.glob("gpu_check_tiny_*.json"))
    data = json.loads(report.read_text())
    assert "errors" not in data
    # every row is a variant of config.yaml with its own settings (the planner keys costs by
    # them), and every experiment the planner prices in steps has its step measured
    from dlrepro.config import expand_runs, load_config

    runs = {(r.experiment, r.variant): r for r in expand_runs(load_config([REPO / "config/config.yaml"]))}
    priced_in_steps = {r.experiment for r in runs.values()
                       if r.family.kind != "custom" or r.family.step_probe}
    assert {"transformer-heads", "density-likelihood", "pix2pix", "cyclegan"} <= priced_in_steps
    assert {r["experiment"] for r in data["step_costs"]} == priced_in_steps
    for row in data["step_costs"]:
        assert row["settings"] == runs[(row["experiment"], row["variant"])].settings, row["variant"]
        assert 0 < row["seconds_per_step"] < 60
    assert {r["model"] for r in data["seeds_together"]} == {"mlp", "cnn"}
    for r in data["seeds_together"]:
        # the stacked model trains each seed as its sequential run does, up to float summation
        # order; the ratio is sequential over together, as the docs read it
        assert r["max_metric_abs_diff"] < 1e-4
        assert abs(r["ratio"] - r["sequential_s"] / r["together_s"]) < 1e-9
    slots = data["slots"]
    assert [r["processes"] for r in slots] == [1, 2]
    assert all(abs(r["vs_one"] - r["steps_per_second"] / slots[0]["steps_per_second"]) < 1e-9 for r in slots)
    combos = {(r["architecture"], r["output"]) for r in data["word2vec"]["ours"]}
    assert combos == {(a, o) for a in ("cbow", "skipgram") for o in ("hierarchical", "negative")}
    assert all(r["words_per_second"] > 0 for r in data["word2vec"]["ours"])
    assert len(data["word2vec"]["gensim_cpu_workers1"]) == 4
    assert data["image_metrics"][0]["pairs_per_second"] > 0
    assert "| dropout |" in report.with_suffix(".md").read_text()


def test_the_device_audit_names_a_run_on_the_wrong_device(tmp_path):
    """gpu_dag's check of run.json: a run that names another device than the resolved one, or a
    CPU-only family without its reason, is listed; the right ones are not."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gpu_dag import audit_devices

    import torch

    from dlrepro.provenance import device_description

    here = device_description(torch.device("cpu"))
    runs = {"t/right": ("transformer", here),
            "t/wrong": ("transformer", "cuda: NVIDIA H100 80GB HBM3"),
            "b/right": ("backprop", f"{here} (CPU only: {get('backprop').cpu_only})"),
            "b/unexplained": ("backprop", here)}
    for name, (model, device) in runs.items():
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "run.json").write_text(json.dumps(
            {"spec": {"settings": {"model": model}}, "device": device}))
    audit = audit_devices(tmp_path, "cpu")
    assert audit["runs"] == 4
    assert sorted(p.split("/run.json")[0] for p in audit["wrong_device"]) == ["b/unexplained", "t/wrong"]
