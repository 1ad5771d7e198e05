"""Bad input found before anything runs, named, and never paid for with good files.

Most checks are dry runs of a scratch copy of the workflow (parse-time checks); the rest run a
tiny DAG (one Fashion-MNIST experiment, one that reads no data) through Snakemake.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dlrepro.analysis.aggregate import write_tables
from dlrepro.config import ConfigError, expand_runs, load_config, validate
from dlrepro.data import text_corpus
from dlrepro.errors import DataError
from tests import conftest

sys.path.insert(0, str(conftest.REPO / "scripts"))
from fault_matrix import fmnist_copy  # noqa: E402  (the fault-injection script's own damage)
from tests.conftest import REPO, snakemake, tool_env

TINY = """
seeds: [0]
data: {validation_size: 100, test_size: 100}
determinism_check: {enabled: false}
experiments:
  dropout:
    base: {model: mlp, hidden: [16], train_size: 64, epochs: 1, batch_size: 32}
  backprop:
    base: {model: backprop, lr: 0.5}
"""
TINY_ARGS = ["--cores", "2", "--replace-workflow-config", "--configfile", "tiny.yaml"]


def copy_workflow(root: Path) -> Path:
    conftest.copy_workflow(root)
    (root / "tiny.yaml").write_text(TINY)
    return root


def with_tiny(root: Path, extra: str = "", data_dir: Path | None = None) -> None:
    """tiny.yaml plus `extra` lines, its Fashion-MNIST folder moved to data_dir."""
    text = TINY + extra
    if data_dir is not None:
        text = text.replace("test_size: 100}", f"test_size: 100, fashion_mnist_dir: '{data_dir}'}}")
    (root / "tiny.yaml").write_text(text)


def output(result) -> str:
    return result.stdout + result.stderr


def tree(root: Path) -> dict[str, bytes]:
    """Every file under results/ with its content (logs and Snakemake's own files aside)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in (root / "results").rglob("*")
            if p.is_file() and "logs" not in p.parts}


@pytest.fixture(scope="module")
def tiny_dag(tmp_path_factory) -> Path:
    root = copy_workflow(tmp_path_factory.mktemp("tiny"))
    snakemake(*TINY_ARGS, cwd=root)
    return root


# 1. The local profile is in effect: `keep-going` lets an independent job finish after another
# failed, and `show-failed-logs` puts the failing job's error into Snakemake's output.
@pytest.mark.slow
def test_default_profile_is_loaded_and_keeps_going(tmp_path):
    root = copy_workflow(tmp_path)
    # The dropout job fails: the prepared data it reads are damaged after they were made (jobs
    # call the package beside Snakemake's interpreter, so the fault goes in the data, not PATH);
    # backprop reads no data and finishes.
    snakemake("results/data/fashion-mnist.pt", *TINY_ARGS, cwd=root)
    (root / "results/data/fashion-mnist.pt").write_text("injected failure\n")
    result = subprocess.run([sys.executable, "-m", "snakemake", *TINY_ARGS], cwd=root, env=tool_env(),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode != 0
    text = output(result)
    assert "Using workflow specific profile profiles/default" in text
    assert (root / "results/runs/backprop/base/seed0/metrics.json").exists()   # kept going
    assert "Error in rule train_dropout" in text                                # ...and said so,
    assert "dlrepro: error: Prepared data 'results/data/fashion-mnist.pt'" in text   # with the log


# 2. Data paths are checked at parse time; the prepared tensor does not depend on the folder.
@pytest.mark.slow
def test_same_data_in_another_folder_reruns_nothing(tiny_dag, tmp_path):
    copy = tmp_path / "fmnist"
    fmnist_copy(copy, "copy")
    with_tiny(tiny_dag, data_dir=copy)
    try:
        dry = snakemake("-n", *TINY_ARGS, cwd=tiny_dag)
        assert "Nothing to be done" in output(dry)
    finally:
        with_tiny(tiny_dag, "")


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "truncated", "corrupt"])
def test_bad_data_folder_is_named_before_anything_runs_and_loses_nothing(tiny_dag, tmp_path,
                                                                           damage):
    folder = tmp_path / "fmnist"
    fmnist_copy(folder, damage)
    before = tree(tiny_dag)
    with_tiny(tiny_dag, data_dir=folder)
    try:
        result = snakemake(*TINY_ARGS, "--forcerun", "prepare_data", cwd=tiny_dag, check=False)
    finally:
        with_tiny(tiny_dag, "")
    assert result.returncode != 0
    message = output(result)
    assert str(folder) in message and "data/fashion_mnist_dir" in message + "dataset-fashion-mnist"
    assert "Traceback" not in message
    assert tree(tiny_dag) == before          # not one file lost or rewritten


def test_run_specs_hold_only_what_the_run_reads():
    config = load_config([REPO / "config/config.yaml"])
    specs = {run.experiment: run.spec(config) for run in expand_runs(config)}
    assert "data" not in specs["backprop"] and "data" not in specs["word2vec"]
    assert "score_images" not in specs["dropout"] and "score_images" in specs["autoencoder"]
    assert "fashion_mnist_dir" not in json.dumps(specs)
    moved = load_config([REPO / "config/config.yaml"])
    moved["data"]["fashion_mnist_dir"] = "/elsewhere"
    moved["metrics"]["images"] = 10
    after = {run.experiment: run.spec(moved) for run in expand_runs(moved)}
    assert after["dropout"] == specs["dropout"] and after["backprop"] == specs["backprop"]
    assert after["autoencoder"] != specs["autoencoder"]


# 3. YAML syntax errors name file, line and column; schema errors are short and name the key.
def test_yaml_syntax_error_in_the_default_config_names_file_line_column(tmp_path):
    root = copy_workflow(tmp_path)
    config = root / "config/config.yaml"
    lines = config.read_text().splitlines()
    lines[5] = "threads_per_run: [1"          # line 6: an unclosed list
    config.write_text("\n".join(lines) + "\n")
    result = snakemake("-n", cwd=root, check=False)
    assert result.returncode != 0
    assert re.search(r"config/config\.yaml:\d+:\d+: not valid YAML", output(result))


def test_schema_error_is_short_and_names_key_file_and_line(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "bad.yaml").write_text("experiments:\n  dropout:\n    base: {model: mlp, lr: -1}\n")
    result = snakemake("-n", "--configfile", "bad.yaml", cwd=root, check=False)
    assert result.returncode != 0
    text = output(result)
    assert "config key 'experiments/dropout/base/lr'" in text and "bad.yaml, line 3" in text
    assert "$schema" not in text and "additionalProperties" not in text  # no schema dump
    assert len(text.splitlines()) < 15


# 4. A damaged metrics.json: named by the aggregation, set aside and retrained by the DAG.
def test_aggregate_names_the_damaged_run_file(tmp_path):
    from dlrepro.analysis.aggregate import read_runs

    run = tmp_path / "runs/dropout/base/seed0"
    run.mkdir(parents=True)
    (run / "run.json").write_text("{}")
    (run / "metrics.json").write_bytes(b"\x00\xffgarbage")
    with pytest.raises(DataError, match=re.escape(str(run / "metrics.json"))) as err:
        read_runs([run])
    assert "Delete the folder" in str(err.value)


def test_tables_are_written_all_or_nothing(tmp_path):
    out = tmp_path / "tables"
    write_tables({"a": pd.DataFrame({"x": [1]})}, out)

    class Broken(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError):
        write_tables({"a": pd.DataFrame({"x": [2]}), "b": Broken({"y": [1]})}, out)
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "a.parquet"]
    assert pd.read_parquet(out / "a.parquet")["x"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["tables"]          # no scratch left
    assert out.stat().st_mode & 0o044 == 0o044                          # readable by all


@pytest.mark.slow
def test_tables_lost_to_a_killed_aggregation_are_rebuilt(tiny_dag):
    """A Snakemake killed while aggregating leaves results/tables deleted and the old report:
    the next run must rebuild both (a missing intermediate is not re-made on its own)."""
    tables = tiny_dag / "results/tables"
    saved = tiny_dag / "tables.saved"
    shutil.move(tables, saved)
    try:
        dry = snakemake("-n", *TINY_ARGS, cwd=tiny_dag)
    finally:
        shutil.move(saved, tables)
    planned = re.findall(r"^(aggregate|report)\s+1\s*$", output(dry), re.MULTILINE)
    assert set(planned) == {"aggregate", "report"}, output(dry)
    assert not re.search(r"^train_\w+\s+\d+", output(dry), re.MULTILINE)


@pytest.mark.slow
def test_damaged_metrics_json_is_retrained_not_a_crash(tiny_dag):
    metrics = tiny_dag / "results/runs/dropout/base/seed0/metrics.json"
    good = metrics.read_bytes()
    metrics.write_bytes(b"\x00\xff not json")
    result = snakemake(*TINY_ARGS, cwd=tiny_dag, check=False)
    assert result.returncode == 0, output(result)
    assert str(Path("results/runs/dropout/base/seed0/metrics.json")) in output(result)
    assert metrics.read_bytes() == good                     # retrained: the same bytes
    assert (metrics.parent / "metrics.json.damaged").exists()


# 5. The corpus: `file` needs `path`; every corpus error names its file.
def test_file_source_without_path_is_a_config_error():
    with pytest.raises(ConfigError, match="word2vec_corpus/path"):
        validate({"experiments": {"backprop": {"base": {"model": "backprop"}}},
                  "word2vec_corpus": {"sources": ["file"]}})


@pytest.mark.parametrize("content", ["", "1234 ... !!!\n"])
def test_empty_corpus_file_is_named(tmp_path, content):
    empty = tmp_path / "empty.txt"
    empty.write_text(content)
    with pytest.raises(DataError, match=re.escape(str(empty))):
        text_corpus.check_text_file(empty)
    with pytest.raises(DataError, match=re.escape(str(empty))):
        text_corpus.build(["file"], tmp_path / "corpus.txt", str(empty))


def test_missing_corpus_file_stops_the_dag_at_parse_time(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "w2v.yaml").write_text(f"word2vec_corpus: {{sources: [file], path: {tmp_path}/nope.txt}}\n")
    result = snakemake("-n", "--configfile", "w2v.yaml", cwd=root, check=False)
    assert result.returncode != 0
    assert f"{tmp_path}/nope.txt" in output(result) and "Traceback" not in output(result)


# 6. `results` that is a file (or cannot be written): one line naming the path.
def test_results_as_a_file_is_one_named_line(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "results").write_text("not a folder")
    result = snakemake("-n", cwd=root, check=False)
    assert result.returncode != 0
    errors = [line for line in output(result).splitlines() if line.startswith("dlrepro:")]
    assert len(errors) == 1 and str(root / "results") in errors[0] and "is a file" in errors[0]
    assert "Traceback" not in output(result)


# 7. `device: cuda` without a GPU stops the DAG before any job deletes a finished run.
@pytest.mark.slow
def test_cuda_without_gpu_stops_before_jobs(tiny_dag):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    before = tree(tiny_dag)
    with_tiny(tiny_dag, "device: cuda\n")
    try:
        result = snakemake(*TINY_ARGS, cwd=tiny_dag, check=False)
    finally:
        with_tiny(tiny_dag, "")
    assert result.returncode != 0 and "config key 'device'" in output(result)
    assert tree(tiny_dag) == before


# 8. The run counts quoted in the docs are the configs' real counts.
def test_documented_run_counts_match_the_configs():
    counts = {name: len(expand_runs(load_config(
        [REPO / "config/config.yaml"] + ([REPO / f"config/{name}"] if name != "config.yaml" else []))))
        for name in ("config.yaml", "full.yaml", "smoke.yaml")}
    table = dict(re.findall(r"^\| `([a-z]+\.yaml)` \|[^|]*\| (\d+) \|$",
                            (REPO / "config/README.md").read_text(), re.MULTILINE))
    assert {k: int(v) for k, v in table.items()} == counts
    readme = " ".join((REPO / "README.md").read_text().split())   # line breaks do not matter
    from dlrepro.experiments import EXPERIMENTS
    assert f"{counts['config.yaml']} runs in {len(EXPERIMENTS)} experiments" in readme


def test_smoke_profile_gives_every_experiment_two_seeds_or_fewer():
    config = load_config([REPO / "config/config.yaml", REPO / "config/smoke.yaml"])
    seeds = {}
    for run in expand_runs(config):
        seeds.setdefault(run.experiment, set()).add(run.seed)
    assert max(len(s) for s in seeds.values()) == 2, seeds


@pytest.mark.parametrize("argv, here", [
    ([], True), (["--cores", "2"], True), (["--executor", "slurm"], False), (["-e=slurm"], False),
    (["--workflow-profile", str(REPO / "profiles/slurm")], False),
    (["--workflow-profile", str(REPO / "profiles/gpu")], True),
    (["--workflow-profile", str(REPO / "profiles/slurm"), "--executor", "local"], True)])
def test_gpu_check_at_parse_time_only_where_jobs_run(argv, here):
    """A SLURM login node has no GPU: `device: cuda` is checked only where jobs run."""
    from dlrepro.preflight import jobs_run_here

    assert jobs_run_here(argv) is here


def test_unwritable_results_is_named(tmp_path):
    from dlrepro.preflight import check_writable_folder

    if os.geteuid() == 0:   # root writes anywhere: a file in the way is the case we can build
        blocker = tmp_path / "results"
        blocker.write_text("")
        with pytest.raises(ConfigError, match=re.escape(str(blocker))):
            check_writable_folder(blocker)
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(ConfigError, match="cannot write"):
        check_writable_folder(locked / "results")
