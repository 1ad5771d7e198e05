localrules:
    plan,
    report,


# The cost planner's expectation for this DAG, shown beside the measured times in the report.
rule plan:
    output:
        "results/plan.json",
    params:
        config=json.dumps(plan_config(), sort_keys=True),
        device=config["device"],
    log:
        "results/logs/plan.log",
    conda:
        ENVIRONMENT
    shell:
        "dlrepro plan --config-json {params.config:q} --device {params.device} "
        "--json {output} 2> {log:q}"


rule report:
    input:
        tables=rules.aggregate.output,
        determinism=["results/determinism.json"] if determinism_run() else [],
        # the image figures are drawn from these (each variant's lowest seed)
        figures=report_figure_inputs(),
        plan=rules.plan.output,
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
        "--config-hash {params.config_hash} --figures {input.figures:q} --plan {input.plan} "
        "2> {log:q}"
