# dlrepro: train every experiment of config/config.yaml under controlled seeds, aggregate the
# runs into tables and render report/index.html.
#   snakemake -n                                  # show the DAG
#   snakemake --cores all                         # run it (profiles/default is picked up)
#   snakemake --cores all --configfile config/full.yaml
#   snakemake --workflow-profile profiles/slurm     # submit to SLURM
#   snakemake prefetch                                      # gather external assets (login node)
from snakemake.utils import min_version

min_version("9.0")

# The embedded default, read by the project's validator first so that a syntax error names the
# file, line and column (Snakemake's own loader names neither). Overlays given with --configfile
# are read by Snakemake before this file runs: check them with `dlrepro validate-config FILE`.
from snakemake.exceptions import WorkflowError
from dlrepro.config import ConfigError, read_yaml

try:
    read_yaml("config/config.yaml")
except ConfigError as err:
    raise WorkflowError(f"dlrepro: {err}")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


check_cluster_gpus()


# On a cluster, name what SLURM did to each job that did not complete (Snakemake's own message
# for a pack is only "Error in group train_pack").
onerror:
    report_cluster_failures(log)


# Every run, every score file and the tables are targets too: Snakemake does not re-create a
# missing intermediate file whose consumers are up to date, so deleting one run's folder (or
# results/scores to re-score), or a Snakemake killed while aggregating, would otherwise leave
# them missing and the report stale.
rule all:
    input:
        "report/index.html",
        all_run_metrics(),
        all_score_files(),
        rules.aggregate.output,
