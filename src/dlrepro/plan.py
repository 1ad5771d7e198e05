"""The cost planner: runs, optimisation steps and expected wall time of a configuration, per
experiment and in total, from per-step costs measured on a machine (`benchmarks/gpu_check.py`
writes them: `--sections step_costs,word2vec` on this machine's CPU, the whole check on a GPU).

    dlrepro plan [--configfile FILE ...] [--device cpu|cuda] [--costs COSTS.json] [--cores N]

A run's cost = its steps x the per-step cost of a measured variant of the same shape (settings
that change the arithmetic: family, sizes, batch, optimizer; not the learning rate or epochs),
plus one evaluation pass per epoch (validation images for a classifier, test images for a
generative model; a forward pass costs about a third of a training step), plus the job's
start-up. Costs not measured for that shape are estimated from the family's measured median (a
family never measured: the median of its kind, generative or classifier) and marked as such. Early stopping may end a run sooner: the plan is its upper bound.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from dlrepro.config import Run
from dlrepro.data.fashion_mnist import TEST_IMAGES, TRAIN_IMAGES
from dlrepro.train.work import Work

# Settings that do not change the arithmetic of a step.
NOT_SHAPE = {"lr", "momentum", "weight_decay", "epochs", "train_size", "early_stopping",
             "patience", "init", "logs_per_epoch"}
FORWARD_FRACTION = 1 / 3            # an evaluation batch vs a training step
EVAL_BATCH = 64                     # below it, a step's cost is overhead that evaluation does not pay
STARTUP_SECONDS = 3.0               # a job's interpreter + torch import, when not measured


def shape_key(settings: dict) -> str:
    return json.dumps({k: v for k, v in settings.items() if k not in NOT_SHAPE}, sort_keys=True)


@dataclass
class Costs:
    """Measured costs of one machine (a gpu_check JSON)."""
    source: str
    device: str
    by_shape: dict[str, float]
    by_family: dict[str, list[tuple[int, float]]]      # family -> [(batch, seconds per step)]
    sections: dict          # the whole measurement file: a family's plan_cost reads its section
    startup: float
    fallback: "Costs | None" = None   # another device's table, for families this one never measured

    @classmethod
    def load(cls, path: str | Path, fallback: "Costs | None" = None) -> "Costs":
        """A gpu_check JSON: each step_costs row that carries its settings is that shape's cost;
        every row counts for its family (a shape not measured takes its family's nearest batch)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            from dlrepro.errors import ConfigError
            raise ConfigError(f"cost table '{path}' (config key 'plan_costs') cannot be read ({err}): "
                              "point plan_costs at a file of benchmarks/gpu_check.py") from err
        rows = data.get("step_costs", [])
        by_shape, by_family = {}, {}
        for row in rows:
            if "settings" in row:
                by_shape[shape_key(row["settings"]) + str(row["batch"])] = row["seconds_per_step"]
            by_family.setdefault(row["family"], []).append((row["batch"], row["seconds_per_step"]))
        return cls(str(path), data.get("device_name", data.get("device", "?")), by_shape,
                   by_family, data, data.get("startup_seconds", STARTUP_SECONDS), fallback)

    def step_seconds(self, settings: dict, batch: int) -> tuple[float, bool]:
        """(seconds per step, measured?) for a step of this shape and batch."""
        exact = self.by_shape.get(shape_key(settings) + str(batch))
        if exact is not None:
            return exact, True
        rows = self.by_family.get(settings["model"]) or self._rows_of_kind(settings["model"])
        if not rows and self.fallback:   # never measured here: the other table's cost, estimated
            return self.fallback.step_seconds(settings, batch)[0], False
        if not rows:
            from dlrepro.errors import ConfigError
            raise ConfigError(f"no measured step cost for family '{settings['model']}' in "
                              f"{self.source}: run benchmarks/gpu_check.py --sections step_costs")
        nearest = min(abs(math.log(b / batch)) for b, _ in rows)
        return statistics.median(s for b, s in rows if abs(math.log(b / batch)) == nearest), False

    def borrows(self, family) -> bool:
        """This family's steps are priced from the fallback table (never measured here)."""
        return bool(self.fallback and (family.plan_work or family.kind != "custom")
                    and not (self.by_family.get(family.name) or self._rows_of_kind(family.name)))

    def _rows_of_kind(self, model: str) -> list[tuple[int, float]]:
        """A family not yet measured (a new one): the measured rows of the families of its kind."""
        from dlrepro.families import FAMILIES, get

        kind = get(model).kind
        return [row for name, rows in self.by_family.items()
                if name in FAMILIES and FAMILIES[name].kind == kind for row in rows]


def epoch_work(settings: dict, data: dict, kind: str) -> Work:
    """An epoch loop over the Fashion-MNIST training split; each epoch ends with a forward pass
    over the validation images (a classifier) or the test images (a generative model)."""
    train_n = settings.get("train_size") or TRAIN_IMAGES - data["validation_size"]
    batch = train_n if settings["batch_size"] == "full" else int(settings["batch_size"])
    evaluated = data["validation_size"] if kind == "classifier" else data["test_size"] or TEST_IMAGES
    return Work(settings["epochs"] * math.ceil(train_n / batch), batch,
                settings["epochs"] * evaluated)


@dataclass
class RunCost:
    run: Run
    steps: int
    seconds: float
    measured: bool
    train_seconds: float | None = None   # the optimisation steps alone (None: all of seconds)

    def __post_init__(self):
        if self.train_seconds is None:
            self.train_seconds = self.seconds


def run_cost(run: Run, config: dict, costs: Costs, corpus_words: int) -> RunCost:
    """One mechanism for every family that trains in steps: its work (Family.plan_work, or an
    epoch loop) priced by the step cost measured for its shape. word2vec is priced in words at
    its measured words/s (Family.plan_cost); the few runs that are neither say a fixed time."""
    s, family = run.settings, run.family
    if family.plan_cost:
        return RunCost(run, *family.plan_cost(s, costs, corpus_words))
    if family.plan_work:
        work = family.plan_work(s, config["data"])
    elif family.kind == "custom":       # not priced in steps: the family's estimate ("estimated")
        return RunCost(run, s.get("steps", 1), family.fixed_seconds, False)
    else:
        work = epoch_work(s, config["data"], family.kind)
    per_step, measured = costs.step_seconds(s, work.batch)
    # Evaluation runs in large chunks: per example, a training step's share of a batch of at
    # least EVAL_BATCH examples.
    evaluation = work.evaluated * per_step / max(work.batch, EVAL_BATCH) * FORWARD_FRACTION
    train = work.steps * per_step
    return RunCost(run, work.steps, train + evaluation, measured, train)


def costs_file(config: dict, device: str) -> Path:
    """The cost table the configuration names for that kind of device (config key plan_costs)."""
    return Path(config["plan_costs"]["cuda" if device == "cuda" else "cpu"])


def load_costs(config: dict, device: str, path: str | Path | None = None) -> Costs:
    """The device's cost table (or `path`); a GPU's falls back on the CPU's for the families it
    never measured (charged the CPU's cost, marked estimated: an upper bound)."""
    fallback = Costs.load(costs_file(config, "cpu")) if device == "cuda" else None
    return Costs.load(path or costs_file(config, device), fallback)


def training_jobs(config: dict) -> dict[tuple[str, str], dict]:
    """The DAG's training jobs of a configuration, from the costs of its device (device auto:
    the CPU's, the slower and so the safer estimate): (experiment, job) -> {"variants": [...],
    "seconds": planned}. A job is one variant, or an experiment's pack of short variants."""
    result = plan(config, load_costs(config, config["device"]))
    return {key: {"variants": result["packs"][key], "seconds": seconds}
            for key, seconds in result["jobs"].items()}


# A variant planned under the config's pack_seconds (its runs, without start-up) trains in one
# job with the other short variants of its experiment: a job's start-up (interpreter, torch, the
# data, the first optimizer: ~3-7 s on two cores) is then paid once, not once per short variant.
PACK = "short-variants"     # the job name of an experiment's pack (no variant is named so)


def pack_variants(variant_seconds: dict[tuple[str, str], float],
                  pack_seconds: float) -> dict[tuple[str, str], list[str]]:
    """(experiment, job) -> its variants, in configuration order: short variants of an
    experiment share the job PACK (when there are at least two); the others train alone."""
    short: dict[str, list[str]] = {}
    for (experiment, variant), seconds in variant_seconds.items():
        if seconds < pack_seconds:
            short.setdefault(experiment, []).append(variant)
    jobs: dict[tuple[str, str], list[str]] = {}
    for experiment, variant in variant_seconds:
        packed = len(short.get(experiment, [])) > 1 and variant in short[experiment]
        jobs.setdefault((experiment, PACK if packed else variant), []).append(variant)
    return jobs


PACKAGED_CORPUS_WORDS = 1_938_857   # enwiki + wordnet, as `dlrepro prepare-corpus` builds it


def plan(config: dict, costs: Costs, corpus_words: int = PACKAGED_CORPUS_WORDS) -> dict:
    """Per experiment: runs, jobs, steps, seconds (runs + job start-ups); the total; each
    training job's (experiment, job) seconds, which a SLURM runtime needs, and its variants."""
    from dlrepro.config import expand_runs

    rows: dict[str, dict] = {}
    variant_seconds: dict[tuple[str, str], float] = {}
    for run in expand_runs(config):
        cost = run_cost(run, config, costs, corpus_words)
        row = rows.setdefault(run.experiment, {"runs": 0, "jobs": 0, "steps": 0, "seconds": 0.0,
                                               "train_seconds": 0.0, "estimated": 0})
        key = (run.experiment, run.variant)
        variant_seconds[key] = variant_seconds.get(key, 0.0) + cost.seconds
        row["runs"] += 1
        row["steps"] += cost.steps
        row["seconds"] += cost.seconds
        row["train_seconds"] += cost.train_seconds
        row["estimated"] += not cost.measured
    packs = pack_variants(variant_seconds, config["pack_seconds"])
    jobs = {(e, job): costs.startup + sum(variant_seconds[(e, v)] for v in variants)
            for (e, job), variants in packs.items()}
    for e, _ in jobs:
        rows[e]["jobs"] += 1
        rows[e]["seconds"] += costs.startup
    total = {k: sum(r[k] for r in rows.values()) for k in ("runs", "jobs", "steps", "seconds",
                                                             "train_seconds", "estimated")}
    return {"experiments": rows, "total": total, "costs": costs.source, "device": costs.device,
            "jobs": jobs, "packs": packs, "max_job_seconds": max(jobs.values(), default=0.0),
            "from_other_device": sorted({run.family.name for run in expand_runs(config)
                                         if costs.borrows(run.family)}),
            "other_device": costs.fallback.device if costs.fallback else None}


def format_plan(result: dict, cores: int, gpus: int = 0, slots_per_gpu: int = 1) -> str:
    """The plan as a table and its wall time with `cores` jobs at a time, or, with `gpus`, on
    that many GPUs of `slots_per_gpu` jobs each (GPU-hours: the jobs' seconds shared by the
    slots of a GPU)."""
    header = ["experiment", "runs", "jobs", "steps", "minutes", "estimated"]
    rows = [[experiment, f"{row['runs']:,}", f"{row['jobs']:,}", f"{row['steps']:,}",
             f"{row['seconds'] / 60:,.1f}", f"{row['estimated']} runs"]
            for experiment, row in result["experiments"].items()]
    t = result["total"]
    rows.append(["total", f"{t['runs']:,}", f"{t['jobs']:,}", f"{t['steps']:,}",
                 f"{t['seconds'] / 60:,.1f}", f"{t['estimated']} runs"])
    # each column as wide as its widest cell, two spaces apart: large numbers never run together
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"Plan on {result['device']} (costs: {result['costs']})", ""]
    for cells in [header, *rows]:
        lines.append("  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                               for i, (c, w) in enumerate(zip(cells, widths))).rstrip())
    at_once = gpus * slots_per_gpu if gpus else cores
    wall = max(t["seconds"] / at_once, result["max_job_seconds"]) / 60
    where = (f"{gpus} GPU(s), {slots_per_gpu} job(s) per GPU" if gpus else f"{cores} job(s) at a time")
    lines += ["", f"Expected wall time on {where}: {wall:,.1f} minutes (the sum over {at_once} "
              f"at a time, or the longest job, {result['max_job_seconds'] / 60:,.1f} min, if that "
              "is longer)."]
    if gpus:
        lines.append(f"GPU-hours: {t['seconds'] / slots_per_gpu / 3600:,.2f} (each GPU's "
                     f"{slots_per_gpu} job(s) sharing it).")
    if result.get("from_other_device"):
        lines.append(f"Never measured on this device, so planned at the costs of "
                     f"{result['other_device']} (an upper bound for a faster device, marked "
                     f"estimated): {', '.join(result['from_other_device'])}.")
    return "\n".join(lines)
