# Validate the configuration before anything runs, and build the target lists.
import json
import os

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from dlrepro.config import ConfigError, classifier_run, expand_runs, stable_hash
from dlrepro.metrics.perceptual import WeightsMissing, status as lpips_status

validate(config, "../schemas/config.schema.yaml")
try:
    RUNS = {run.path: run for run in expand_runs(config)}
except ConfigError as err:
    raise WorkflowError(f"Invalid configuration:\n{err}")

DATA = "results/data/fashion-mnist.pt"
CORPUS = "results/data/corpus.txt"
CONFIG_HASH = stable_hash(config)
NO_DATA_FAMILIES = ("surface", "backprop", "word2vec")  # the others read Fashion-MNIST
IMAGE_FAMILIES = ("ae", "vae", "gan", "distortions")  # runs that the scoring stage rates
FEATURE_CLASSIFIER = classifier_run(config)
FEATURE_CLASSIFIER_DIR = "results/scoring/classifier"

# LPIPS' backbone weights live in the project (fetched once by `snakemake prefetch`); every job
# finds them through TORCH_HOME, so nothing tries to download on a compute node.
TORCH_HOME = os.path.abspath(config["metrics"]["torch_home"])
os.environ["TORCH_HOME"] = TORCH_HOME
try:
    LPIPS = lpips_status(TORCH_HOME, config["metrics"]["lpips"])
except WeightsMissing as err:  # metrics.lpips: required -> stop before anything trains
    raise WorkflowError(str(err))

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


def uses_corpus():
    return any(run.settings["model"] == "word2vec" for run in RUNS.values())


def train_inputs(experiment, variant):
    family = variant_runs(experiment, variant)[0].settings["model"]
    if family == "word2vec":
        return [CORPUS]
    return [] if family in NO_DATA_FAMILIES else [DATA]


def is_image_experiment(experiment):
    return any(run.settings["model"] in IMAGE_FAMILIES
               for run in RUNS.values() if run.experiment == experiment)


def score_file(run):
    return f"results/scores/{run.experiment}/{run.variant}/seed{run.seed}.json"


def all_score_files():
    return [score_file(run) for run in RUNS.values() if run.settings["model"] in IMAGE_FAMILIES]


def determinism_run():
    """First run of the configured experiment, or None when the check is off or not possible."""
    check = config["determinism_check"]
    if not check["enabled"]:
        return None
    return next((run for run in RUNS.values() if run.experiment == check["experiment"]), None)
