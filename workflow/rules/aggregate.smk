localrules:
    aggregate,


rule aggregate:
    input:
        runs=all_run_metrics(),
        scores=all_score_files(),
    output:
        # One folder, written whole: a failed aggregation leaves no mix of old and new tables.
        directory("results/tables"),
    log:
        "results/logs/aggregate.log",
    conda:
        ENVIRONMENT
    shell:
        "dlrepro aggregate {input.runs:q} --scores {input.scores:q} --out {output:q} 2> {log:q}"
