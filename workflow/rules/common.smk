# Validate the configuration and check every path before anything runs: a job that fails makes
# Snakemake delete its outputs, so what can be checked here is never left to a job.
import json
import math
import os
import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from dlrepro import preflight
from dlrepro.config import classifier_run, config_hash, expand_runs, validate as check_config
from dlrepro.data import BINARISED, CORPUS, FASHION_MNIST as DATA
from dlrepro.errors import ConfigError, DataError
from dlrepro.experiments import BY_ID as EXPERIMENTS
from dlrepro.plan import PACK, training_jobs
from dlrepro.metrics.perceptual import WeightsMissing, status as lpips_status, torch_home_of
from dlrepro.runfolder import (INFO, METRICS, OUTPUTS, RUNS_ROOT, SCORES_ROOT, RunFolder, run_dir,
                               score_file as score_path)
# Jobs call the package's CLI (`dlrepro ...`): the one beside the interpreter that runs Snakemake,
# so `.venv/bin/snakemake` works without an activated venv (jobs inherit this PATH; a job on
# another node re-parses this file with its own interpreter).
preflight.put_interpreter_first_on_path()
# The main Snakemake process checks; jobs (SLURM steps, group members) re-parse this file on
# nodes that may not see the data folders, and need not check again.
CHECKING = workflow.is_main_process
# Whether jobs run on this machine; False when they go to a cluster (SLURM).
JOBS_RUN_HERE = preflight.jobs_run_here(sys.argv[1:])

try:
    # The project's validator first: it names the key, the file and line that set it, and the
    # fix in one line. Snakemake's validate stays as the second line of defence.
    # In merge order: the Snakefile's configfile, then --configfile overlays (they win).
    overlays = [str(f) for f in workflow.config_settings.configfiles]
    CONFIG_FILES = [*(f for f in map(str, workflow.configfiles) if f not in overlays), *overlays]
    check_config(config, files=CONFIG_FILES)
    RUNS = {run.path: run for run in expand_runs(config, files=CONFIG_FILES)}
    if CHECKING:
        preflight.check_writable_folder("results")
        preflight.check_writable_folder("report")
        if JOBS_RUN_HERE:   # on SLURM, the GPUs are on the nodes
            preflight.check_device(config["device"])
except (ConfigError, DataError) as err:
    raise WorkflowError(f"dlrepro: {err}")
validate(config, "../schemas/config.schema.yaml")

CONFIG_HASH = config_hash(config)
FEATURE_CLASSIFIER = classifier_run(config)
FEATURE_CLASSIFIER_DIR = "results/scoring/classifier"
FEATURE_CLASSIFIER_FILES = {"metrics": f"{FEATURE_CLASSIFIER_DIR}/{METRICS}",
                            "checkpoint": str(RunFolder(FEATURE_CLASSIFIER_DIR).checkpoint_file)}

# LPIPS' backbone weights live in the project (built once by `make` / `snakemake prefetch`) and
# every command that needs them is given the folder, so nothing tries to download on a compute
# node. Only the two trusted files are accepted (dlrepro.metrics.perceptual).
TORCH_HOME = os.path.abspath(config["metrics"]["torch_home"])
# (Snakemake hands the targets over only after parsing: `snakemake prefetch` is read off argv.)
PREFETCH_ONLY = "prefetch" in sys.argv[1:]
try:
    LPIPS = lpips_status(TORCH_HOME, "auto" if PREFETCH_ONLY else config["metrics"]["lpips"])
except WeightsMissing as err:  # metrics.lpips: required -> stop before anything trains
    raise WorkflowError(f"dlrepro: {err}")


def uses_binarised():
    return any(run.family.data == "binarised" for run in RUNS.values())


def uses_fashion_mnist():   # the binarised data are made from it too
    return (bool(all_score_files()) or uses_binarised()
            or any(run.family.reads_fashion_mnist for run in RUNS.values()))


def uses_corpus():
    return any(run.family.data == "corpus" for run in RUNS.values())


# One training job per (experiment, variant): it trains every seed in one process, which pays
# Python's and PyTorch's start-up once instead of once per seed.
VARIANTS = {}
for _run in RUNS.values():
    VARIANTS.setdefault((_run.experiment, _run.variant), []).append(_run)
SEEDS = {experiment: sorted({run.seed for (e, _), runs in VARIANTS.items() if e == experiment
                             for run in runs})
         for experiment in config["experiments"]}


# The training jobs and their planned seconds (src/dlrepro/plan.py, from the costs measured on
# this kind of device, benchmarks/results): a job is one variant (every seed of it), or the pack
# of an experiment's short variants, which pays the start-up once. The longest jobs start first,
# so that the DAG does not end on one long job running alone, and a SLURM job asks for a runtime
# from them.
try:
    TRAINING_JOBS = training_jobs(config)
except ConfigError as err:       # no measured costs: one job per variant, no priorities
    print(f"dlrepro: warning: {err}", file=sys.stderr)
    TRAINING_JOBS = {key: {"variants": [key[1]], "seconds": None} for key in VARIANTS}
_LONGEST, _PLANNED = {}, {}
for (_e, _job), _planned in TRAINING_JOBS.items():
    _LONGEST[_e] = max(_LONGEST.get(_e, 0.0), _planned["seconds"] or 0.0)
    _PLANNED[_e] = _PLANNED.get(_e, 0.0) + (_planned["seconds"] or 0.0)
if CHECKING and sum(_PLANNED.values()) > 60 * config["plan_warn_minutes"]:
    _costliest = max(_PLANNED, key=_PLANNED.get)
    print(f"dlrepro: warning: the cost planner expects {sum(_PLANNED.values()) / 60:,.0f} minutes of "
          f"training, more than plan_warn_minutes ({config['plan_warn_minutes']:,}); the costliest "
          f"experiment is '{_costliest}' ({_PLANNED[_costliest] / 60:,.0f} minutes). Check its "
          "epochs, steps and train_size for a typo (`dlrepro plan` lists every experiment), or raise "
          "plan_warn_minutes.", file=sys.stderr)
# Snakemake prefers higher priorities: the experiment with the longest job gets the highest.
PRIORITY = {e: rank for rank, e in enumerate(sorted(_LONGEST, key=_LONGEST.get), start=1)}
# Training jobs are packed into SLURM allocations as group train_pack (profiles/slurm sizes the
# packs); where jobs run on this machine they are not grouped.
TRAIN_GROUP = None if JOBS_RUN_HERE else "train_pack"
TRAINING_RULES = []    # filled by train.smk
# Machines differ by ~3x in speed, and a job killed at its time limit loses its epoch.
RUNTIME_SAFETY, RUNTIME_MIN_MINUTES = 3.0, 10


def alone_variants(experiment):
    """The variants of the experiment that train in a job of their own."""
    return [job for (e, job) in TRAINING_JOBS if e == experiment and job != PACK]


def packed_variants(experiment):
    """The experiment's short variants, which train together in one job ([] if none)."""
    return TRAINING_JOBS.get((experiment, PACK), {"variants": []})["variants"]


def plan_config():
    """What the cost planner reads of the configuration (not where the data live: moving the
    Fashion-MNIST folder must not re-plan and so re-render the report)."""
    return {"seeds": config["seeds"], "device": config["device"], "pack_seconds": config["pack_seconds"],
            "seeds_together": config["seeds_together"], "experiments": config["experiments"],
            "data": {k: config["data"][k] for k in ("validation_size", "test_size")}}


def train_runtime(experiment, job):
    """Minutes a SLURM training job asks for: the planned seconds with a safety factor."""
    seconds = TRAINING_JOBS[(experiment, job)]["seconds"]
    if seconds is None:
        return 60
    return max(RUNTIME_MIN_MINUTES, math.ceil(RUNTIME_SAFETY * seconds / 60))


# The software of every rule (pinned; used with --software-deployment-method conda).
ENVIRONMENT = "../../environment.yml"


wildcard_constraints:
    variant="[^/]+",


def check_cluster_gpus():
    """Before anything is submitted to a cluster (the Snakefile calls this once all rules exist).
    device: cuda needs every rule that claims a GPU slot to ask SLURM for a GPU, or it fails on
    its node, on every retry; the partition and account must exist (sbatch refuses the jobs
    otherwise); and a rule packed with rules that ask for more memory is told so."""
    if not CHECKING or JOBS_RUN_HERE:
        return
    settings = workflow.resource_settings
    try:
        preflight.check_gpus_requested(
            config["device"], [rule.name for rule in workflow.rules if "gpu_slots" in rule.resources],
            settings.default_resources or {}, settings.overwrite_resources)
        preflight.check_slurm_targets(settings.default_resources or {}, settings.overwrite_resources)
    except ConfigError as err:
        raise WorkflowError(f"dlrepro: {err}")
    groups = preflight.rule_groups({rule: TRAIN_GROUP for rule in TRAINING_RULES if TRAIN_GROUP},
                                   preflight.profile_settings(sys.argv[1:]).get("groups"))
    for note in preflight.pack_memory_notes(groups, settings.default_resources or {},
                                            settings.overwrite_resources):
        print(note, file=sys.stderr)


def report_cluster_failures(snakemake_logs):
    if CHECKING and not JOBS_RUN_HERE:
        from dlrepro.cluster import failure_report

        for line in failure_report(snakemake_logs):
            print(line, file=sys.stderr)


def train_log(experiment, variant="{variant}", attempt=None):
    """A training job's log; with an attempt number, that attempt's own copy."""
    return f"results/logs/train/{experiment}/{variant}{f'.attempt{attempt}' if attempt else ''}.log"


def rule_name(stage, experiment):
    return f"{stage}_{experiment.replace('-', '_')}"


def variant_runs(experiment, variant):
    if (experiment, variant) not in VARIANTS:
        raise WorkflowError(f"'{experiment}/{variant}' is not a variant of this configuration")
    return VARIANTS[(experiment, variant)]


def job_variants(experiment, job):
    """The variants a training job trains: its own, or the experiment's pack."""
    if (experiment, job) not in TRAINING_JOBS:
        raise WorkflowError(f"'{experiment}/{job}' is not a training job of this configuration")
    return TRAINING_JOBS[(experiment, job)]["variants"]


def job_runs(experiment, job):
    return [run for variant in job_variants(experiment, job) for run in variant_runs(experiment, variant)]


def all_run_metrics():
    return [f"{path}/{METRICS}" for path in RUNS]


def train_inputs(experiment, job):
    """The data files a training job reads (its variants' families')."""
    files = {"fashion-mnist": DATA, "binarised": BINARISED, "corpus": CORPUS}
    return sorted({files[run.family.data] for run in job_runs(experiment, job) if run.family.data})


def experiment_files(experiment, variants="{variant}"):
    """What a training job leaves per run (its rule's outputs): the run files, and outputs.pt for
    families that leave images for scoring and the report. `variants`: the variants it trains,
    or the wildcard of a job per variant."""
    families = {run.family for run in RUNS.values() if run.experiment == experiment}
    leave = {family.leaves_outputs for family in families}
    if len(leave) > 1:
        raise WorkflowError(f"dlrepro: experiment '{experiment}' mixes model families that leave "
                            f"outputs.pt and families that do not ({sorted(f.name for f in families)}): "
                            "split it into two experiments")
    names = [METRICS, INFO, *([OUTPUTS] if leave == {True} else [])]
    variants = [variants] if isinstance(variants, str) else variants
    return {name.split(".")[0]: [f"{run_dir(experiment, v, s)}/{name}"
                                 for v in variants for s in SEEDS[experiment]] for name in names}


def is_image_experiment(experiment):
    return any(run.family.scored for run in RUNS.values() if run.experiment == experiment)


def score_file(run):
    return score_path(run.experiment, run.variant, run.seed)


def scored_runs(experiment):
    return [run for run in RUNS.values() if run.experiment == experiment and run.family.scored]


def all_score_files():
    return [score_file(run) for run in RUNS.values() if run.family.scored]


def report_figure_inputs():
    """The outputs.pt files the report draws image figures from: each variant's lowest seed,
    in the experiments that show images."""
    lowest = {}
    for run in RUNS.values():
        if EXPERIMENTS[run.experiment].images and run.family.leaves_outputs:
            key = (run.experiment, run.variant)
            lowest[key] = min(lowest.get(key, run.seed), run.seed)
    return [str(RunFolder.of(e, v, seed).outputs_file) for (e, v), seed in lowest.items()]


def determinism_run():
    """First run of the configured experiment, or None when the check is off or not possible."""
    check = config["determinism_check"]
    if not check["enabled"]:
        return None
    return next((run for run in RUNS.values() if run.experiment == check["experiment"]), None)


# The inputs of what will run: the data folders and corpus sources (missing or corrupt files are
# named here, not after a job has deleted a good cache), and finished runs whose metrics.json
# was damaged (set aside, so they retrain instead of breaking the aggregation).
if CHECKING:
    try:
        if uses_fashion_mnist():
            preflight.check_fashion_mnist(config["data"]["fashion_mnist_dir"],
                                          config["data"]["download"],
                                          "results/data/fashion-mnist.source.json")
        if uses_corpus():
            preflight.check_corpus_sources(config["word2vec_corpus"])
        if uses_binarised():
            preflight.check_mnist_wheel(config["data"]["mnist_wheel"], "results/data/mnist.source.json")
    except (ConfigError, DataError) as err:
        raise WorkflowError(f"dlrepro: {err}")
    preflight.quarantine_damaged_runs([*RUNS, FEATURE_CLASSIFIER_DIR])
