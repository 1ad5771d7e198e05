# Validate the configuration before anything runs, and build the target lists.
import json

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from dlrepro.config import ConfigError, expand_runs, stable_hash

validate(config, "../schemas/config.schema.yaml")
try:
    RUNS = {run.path: run for run in expand_runs(config)}
except ConfigError as err:
    raise WorkflowError(f"Invalid configuration:\n{err}")

DATA = "results/data/fashion-mnist.pt"
CONFIG_HASH = stable_hash(config)
CLASSIFIER_FAMILIES = ("mlp", "cnn")

# One training job per (experiment, variant): it trains every seed in one process, which pays
# Python's and PyTorch's start-up once instead of once per seed.
VARIANTS = {}
for _run in RUNS.values():
    VARIANTS.setdefault((_run.experiment, _run.variant), []).append(_run)
SEEDS = {experiment: sorted({run.seed for (e, _), runs in VARIANTS.items() if e == experiment
                             for run in runs})
         for experiment in config["experiments"]}


wildcard_constraints:
    variant="[^/]+",


def train_rule_name(experiment):
    return "train_" + experiment.replace("-", "_")


def variant_runs(experiment, variant):
    if (experiment, variant) not in VARIANTS:
        raise WorkflowError(f"'{experiment}/{variant}' is not a variant of this configuration")
    return VARIANTS[(experiment, variant)]


def all_run_metrics():
    return [f"{path}/metrics.json" for path in RUNS]


def determinism_run():
    """First run of the configured experiment, or None when the check is off or not possible."""
    check = config["determinism_check"]
    if not check["enabled"]:
        return None
    return next((run for run in RUNS.values() if run.experiment == check["experiment"]), None)
