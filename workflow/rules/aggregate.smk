localrules:
    aggregate,


rule aggregate:
    input:
        runs=all_run_metrics(),
        scores=all_score_files(),
    output:
        runs="results/tables/runs.parquet",
        variants="results/tables/variants.parquet",
        paired="results/tables/paired.parquet",
        history="results/tables/history.parquet",
        checks="results/tables/checks.parquet",
    log:
        "results/logs/aggregate.log",
    shell:
        "dlrepro aggregate {input.runs:q} --scores results/scores --out results/tables 2> {log:q}"
