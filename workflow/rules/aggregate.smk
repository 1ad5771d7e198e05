localrules:
    aggregate,


rule aggregate:
    input:
        all_run_metrics(),
    output:
        runs="results/tables/runs.parquet",
        variants="results/tables/variants.parquet",
        paired="results/tables/paired.parquet",
        history="results/tables/history.parquet",
        checks="results/tables/checks.parquet",
    log:
        "results/logs/aggregate.log",
    shell:
        "dlrepro aggregate {input:q} --out results/tables 2> {log:q}"
