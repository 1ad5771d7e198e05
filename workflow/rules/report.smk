localrules:
    report,


rule report:
    input:
        rules.aggregate.output,
        determinism=["results/determinism.json"] if determinism_run() else [],
    output:
        "report/index.html",
    params:
        determinism=lambda w, input: f"--determinism {input.determinism[0]}" if input.determinism else "",
        config_hash=CONFIG_HASH,
    log:
        "results/logs/report.log",
    shell:
        "dlrepro report --tables results/tables --out {output} {params.determinism} "
        "--config-hash {params.config_hash} --runs results/runs 2> {log:q}"
