localrules:
    report,


rule report:
    input:
        tables=rules.aggregate.output,
        determinism=["results/determinism.json"] if determinism_run() else [],
        # the image figures are drawn from these (each variant's lowest seed)
        figures=report_figure_inputs(),
    output:
        "report/index.html",
    params:
        determinism=lambda w, input: f"--determinism {input.determinism[0]}" if input.determinism else "",
        config_hash=CONFIG_HASH,
    log:
        "results/logs/report.log",
    conda:
        ENVIRONMENT
    shell:
        "dlrepro report --tables {input.tables:q} --out {output} {params.determinism} "
        "--config-hash {params.config_hash} --figures {input.figures:q} 2> {log:q}"
