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


wildcard_constraints:
    experiment="[^/]+",
    variant="[^/]+",
    seed=r"\d+",


def run_of(wildcards):
    path = f"results/runs/{wildcards.experiment}/{wildcards.variant}/seed{wildcards.seed}"
    if path not in RUNS:
        raise WorkflowError(f"{path} is not a run of this configuration")
    return RUNS[path]


def run_spec_json(wildcards):
    return json.dumps(run_of(wildcards).spec(config), sort_keys=True)


def run_data(wildcards):
    """Only classifiers read Fashion-MNIST; toy experiments need no data file."""
    return DATA if run_of(wildcards).settings["model"] in CLASSIFIER_FAMILIES else []


def all_run_metrics():
    return [f"{path}/metrics.json" for path in RUNS]


def determinism_run():
    """First run of the configured experiment, or None when the check is off or not possible."""
    check = config["determinism_check"]
    if not check["enabled"]:
        return None
    return next((run for run in RUNS.values() if run.experiment == check["experiment"]), None)
