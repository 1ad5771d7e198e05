"""The run-folder contract: where a run's files live, what they are called, how they are read
and written. Snakemake rules (common.smk), the training engine, scoring, aggregation and the
report all go through this module; nobody else spells out a path.

  results/runs/{experiment}/{variant}/seed{n}/
    metrics.json    deterministic numbers; written last: it marks the run complete
    run.json        spec, spec hash, status, versions, git commit, device, timings, and the size
                    and SHA-256 of every other file the run wrote (its CSVs, outputs.pt): a file
                    damaged later is found when it is read, or when Snakemake parses the workflow
    history.csv     per-epoch (or per-step) curves; other *.csv are per-run tables
    checkpoint.pt   the engine's resume point (weights, optimizers, RNG states, history), while
                    the run trains; removed once it is complete, unless its spec keeps the
                    weights (the scoring stage's feature classifier: no optimizer state)
    outputs.pt      what scoring and the report read: image pairs, sample sets, figure data
  results/runs/{experiment}/_shared/{sha256}.pt   an image set that outputs.pt names instead of
                    holding it: stored once by content for every run of the experiment that has
                    it (the test images each autoencoder reconstructs, pix2pix's edge maps)
  results/scores/{experiment}/{variant}/seed{n}.json   the scoring stage's file for that run
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dlrepro.errors import DataError
from dlrepro.io import atomic_torch_save, atomic_write_text, read_json, sha256, stable_hash, write_json

RUNS_ROOT = "results/runs"
SCORES_ROOT = "results/scores"
METRICS, INFO, HISTORY = "metrics.json", "run.json", "history.csv"
CHECKPOINT, OUTPUTS = "checkpoint.pt", "outputs.pt"
SHARED = "_shared"
FILES = "files"          # run.json's manifest: {file name: {"bytes": n, "sha256": hex}}


def run_dir(experiment: str, variant: str, seed: int, root: str | Path = RUNS_ROOT) -> str:
    return f"{root}/{experiment}/{variant}/seed{seed}"


def score_file(experiment: str, variant: str, seed: int, root: str | Path = SCORES_ROOT) -> str:
    return f"{root}/{experiment}/{variant}/seed{seed}.json"


def run_key(path: str | Path) -> tuple[str, str, int]:
    """(experiment, variant, seed) of a run folder, a file in it, or its score file."""
    parts = Path(path).parts
    if parts[-1].startswith("seed") and parts[-1].endswith(".json"):        # a score file
        return parts[-3], parts[-2], int(parts[-1][4:-5])
    folder = parts if parts[-1].startswith("seed") else parts[:-1]
    return folder[-3], folder[-2], int(folder[-1][4:])


@dataclass(frozen=True)
class RunFolder:
    path: Path

    def __init__(self, path: str | Path):
        object.__setattr__(self, "path", Path(path))

    @classmethod
    def of(cls, experiment: str, variant: str, seed: int, root: str | Path = RUNS_ROOT):
        return cls(run_dir(experiment, variant, seed, root))

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def metrics_file(self) -> Path:
        return self.path / METRICS

    @property
    def outputs_file(self) -> Path:
        return self.path / OUTPUTS

    @property
    def checkpoint_file(self) -> Path:
        return self.path / CHECKPOINT

    # -- reading ---------------------------------------------------------------------------
    def read(self, name: str, what: str = "run"):
        """A JSON file of the run; a missing or damaged one is named with the fix."""
        path = self.path / name
        try:
            return read_json(path)
        except (OSError, ValueError) as err:
            reason = "is missing" if isinstance(err, FileNotFoundError) else f"is damaged ({err})"
            raise DataError(f"{what} '{self.path}': '{path}' {reason}. Delete the folder "
                            f"'{self.path}' and re-run snakemake: it is recomputed (other runs "
                            "are kept).") from err

    def metrics(self) -> dict:
        return self.read(METRICS)

    def info(self) -> dict:
        return self.read(INFO)

    def spec(self) -> dict:
        return self.info()["spec"]

    def tables(self) -> dict:
        """{name: DataFrame} of the run's CSV files (history and per-run tables), each checked
        against the run's manifest first."""
        import pandas as pd

        tables = sorted(self.path.glob("*.csv"))
        self.check_files([csv.name for csv in tables])
        return {csv.stem: pd.read_csv(csv) for csv in tables}

    def damaged_files(self, names=None) -> list[str]:
        """The files of a finished run (of `names`, or all it wrote) that are missing, or no
        longer have the size and SHA-256 recorded in run.json when the run was written (run.json
        itself when it cannot be read). A run written without a manifest has nothing to compare
        with: []."""
        if not (self.path / INFO).exists():      # not written by a run (nothing to compare)
            return []
        try:
            manifest = read_json(self.path / INFO).get(FILES) or {}
        except (OSError, ValueError, AttributeError):
            return [INFO]
        damaged = []
        for name, expected in manifest.items():
            if names is not None and name not in names:
                continue
            path = self.path / name
            if (not path.is_file() or path.stat().st_size != expected["bytes"]
                    or sha256(path) != expected["sha256"]):
                damaged.append(name)
        return damaged

    def check_files(self, names=None) -> None:
        """Raise a DataError naming the first damaged file (of `names`, or of all)."""
        damaged = self.damaged_files(names)
        if damaged:
            why = ("cannot be read" if damaged[0] == INFO else "is damaged or missing (it no longer "
                   f"matches the size and SHA-256 the run recorded in {INFO})")
            raise DataError(f"run '{self.path}': '{self.path / damaged[0]}' {why}. Re-run "
                            "snakemake: it sets the run aside and retrains it (other runs are kept).")

    @property
    def shared_dir(self) -> Path | None:
        """Where a run folder (…/{experiment}/{variant}/seed{n}) keeps the image sets it shares
        with its experiment's other runs; None for any other folder (it keeps them inline)."""
        return self.path.parent.parent / SHARED if re.fullmatch(r"seed\d+", self.path.name) else None

    def outputs(self) -> dict:
        import torch

        self.check_files([OUTPUTS])
        return _expand(torch.load(self.outputs_file, weights_only=False), self)

    def checkpoint(self, spec_hash: str) -> dict | None:
        """The resume state, or None: no file, other settings, or a file that cannot be read
        (said on stderr; only the errors a torn or foreign file raises are caught)."""
        import pickle
        import zipfile

        import torch

        if not self.checkpoint_file.exists():
            return None
        try:
            state = torch.load(self.checkpoint_file, weights_only=False)  # ours: holds RNG states
        except (EOFError, pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError) as err:
            print(f"[dlrepro] ignoring unreadable checkpoint {self.checkpoint_file} ({err}); "
                  "training this run from the start", file=sys.stderr)
            return None
        if not isinstance(state, dict) or state.get("spec_hash") != spec_hash:
            print(f"[dlrepro] checkpoint {self.checkpoint_file} is from other settings; "
                  "starting afresh", file=sys.stderr)
            return None
        return state

    # -- writing ---------------------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> None:
        atomic_torch_save(state, self.checkpoint_file)

    def save_outputs(self, outputs: dict) -> None:
        compact = _compact(outputs)
        if self.shared_dir is not None:
            compact = _share(compact, self.shared_dir)
        atomic_torch_save(compact, self.outputs_file)

    def write_table(self, name: str, table) -> None:
        """A per-run table (a DataFrame) as <name>.csv; write() lists it in run.json."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / f"{name}.csv", table.to_csv(index=False))

    def write(self, spec: dict, metrics: dict, history=None, device: str = "",
              timings: dict | None = None, tables: dict | None = None) -> None:
        """history.csv and other tables, run.json, then metrics.json (the completion marker)."""
        from dlrepro.provenance import git_commit, versions

        self.path.mkdir(parents=True, exist_ok=True)
        if history is not None:
            atomic_write_text(self.path / HISTORY, history.to_csv(index=False))
        for name, table in (tables or {}).items():
            self.write_table(name, table)
        written = [*sorted(p.name for p in self.path.glob("*.csv")),
                   *([OUTPUTS] if self.outputs_file.exists() else [])]
        write_json(self.path / INFO, {
            "spec": spec, "spec_hash": stable_hash(spec), "status": metrics["status"],
            "versions": versions(), "git_commit": git_commit(Path(__file__).parent),
            "device": device, "timings": timings or {},
            FILES: {name: {"bytes": (self.path / name).stat().st_size,
                           "sha256": sha256(self.path / name)} for name in written}})
        # Last, because Snakemake takes metrics.json as the sign that the run is complete; it
        # holds only deterministic numbers (timings live in run.json) so reruns compare bytewise.
        write_json(self.metrics_file, metrics)


# outputs.pt stores images as 8-bit levels, as an image file would: a float tensor of images
# (3 or more dimensions, every value within [0, 1]) is kept as round(255 x) in uint8 and read back
# as levels / 255. The data set's own images are levels already, so they come back exactly; a
# model's images move by at most 1/510, far below what PSNR, SSIM, LPIPS or a Fréchet distance
# resolve (benchmarks/outputs_precision.py measures it). A tensor that appears twice (the
# originals of several pairs) is stored once, and every tensor as a copy of just itself (a slice
# saved as it is drags its whole base tensor, e.g. the full test set, into the file).
_UINT8 = "__uint8_over_255__"


def _compact(obj, seen: dict | None = None):
    import torch

    seen = {} if seen is None else seen
    if isinstance(obj, dict):
        return {k: _compact(v, seen) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_compact(v, seen) for v in obj)
    if not torch.is_tensor(obj):
        return obj
    if id(obj) not in seen:   # the same tensor again: the same stored object (saved once)
        seen[id(obj)] = (obj, _compact_tensor(obj))   # obj is held so that its id stays unique
    return seen[id(obj)][1]


def _compact_tensor(tensor):
    import torch

    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.float32 and tensor.dim() >= 3 and tensor.numel():
        if tensor.min() >= 0 and tensor.max() <= 1:
            return {_UINT8: (tensor * 255).round().to(torch.uint8)}
    return tensor.clone()


# Image sets of at least this many bytes go to the experiment's _shared folder, named by the
# SHA-256 of their levels: many runs of an experiment hold the same test images (or edge maps of
# them), and 27 translation runs kept ~40 MB of copies. A set only one run has just moves there.
SHARE_BYTES = 65536
_SHARED_REF = "__shared_uint8__"


def _share(obj, store: Path, done: dict | None = None):
    """`done`: the sets already stored, by id: _compact gives a set used twice the same object,
    which is hashed and written once and named by one reference."""
    done = {} if done is None else done
    if isinstance(obj, dict):
        if set(obj) == {_UINT8} and obj[_UINT8].numel() >= SHARE_BYTES:
            if id(obj) not in done:
                done[id(obj)] = {_SHARED_REF: _store_levels(obj[_UINT8], store)}
            return done[id(obj)]
        return {k: _share(v, store, done) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_share(v, store, done) for v in obj)
    return obj


def _digest(levels) -> str:
    shape = "x".join(map(str, levels.shape))
    return sha256(shape.encode() + levels.contiguous().numpy().tobytes())[:32]


def _store_levels(levels, store: Path) -> str:
    """Writes the set once (again only when the file there is missing or not this content)."""
    name = _digest(levels)
    path = store / f"{name}.pt"
    try:
        _read_levels(path, name)
    except DataError:       # missing, unreadable or another content: (re)write it
        atomic_torch_save(levels.clone(), path)
    return name


def _read_levels(path: Path, name: str):
    import pickle
    import zipfile

    import torch

    try:
        levels = torch.load(path, weights_only=True)
    except (FileNotFoundError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError) as err:
        raise DataError(f"cannot read {path} ({err})") from err
    if not torch.is_tensor(levels) or _digest(levels) != name:
        raise DataError(f"{path} does not hold the image set its name promises (corrupt)")
    return levels


def _expand(obj, folder: RunFolder, read: dict | None = None):
    """`read`: the shared sets already read, by name (a set named twice is read once)."""
    read = {} if read is None else read
    if isinstance(obj, dict):
        if set(obj) == {_UINT8}:
            return obj[_UINT8].float() / 255.0
        if set(obj) == {_SHARED_REF}:
            name = obj[_SHARED_REF]
            if name in read:
                return read[name]
            try:
                if folder.shared_dir is None:
                    raise DataError("it is not in a results/runs/<experiment>/<variant>/seed<n> folder")
                read[name] = _read_levels(folder.shared_dir / f"{name}.pt", name).float() / 255.0
                return read[name]
            except DataError as err:
                raise DataError(f"{folder.outputs_file} names the shared image set {name}: {err}. "
                                f"Re-create it by re-running the run: rm -r {folder.path} && "
                                "snakemake (the run writes the set again)") from err
        return {k: _expand(v, folder, read) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_expand(v, folder, read) for v in obj)
    return obj
