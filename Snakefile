# dlrepro: train every experiment of config/config.yaml under controlled seeds, aggregate the
# runs into tables and render report/index.html.
#   snakemake -n                                  # show the DAG
#   snakemake --cores all                         # run it (workflow/profiles/default is picked up)
#   snakemake --cores all --configfile config/full.yaml
#   snakemake --workflow-profile workflow/profiles/slurm     # submit to SLURM
#   snakemake prefetch                                      # gather external assets (login node)
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


# Every run and every score file is a target too: Snakemake does not re-create a missing
# intermediate file whose consumers are up to date, so deleting one run's folder (or
# results/scores to re-score) would otherwise re-run nothing.
rule all:
    input:
        "report/index.html",
        all_run_metrics(),
        all_score_files(),
