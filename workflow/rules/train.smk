# One job per run. The job checkpoints every epoch into its run folder; if it is killed, the
# re-run (Snakemake marks the output incomplete) resumes from the last checkpoint.
rule train:
    input:
        data=run_data,
    output:
        metrics="results/runs/{experiment}/{variant}/seed{seed}/metrics.json",
        run="results/runs/{experiment}/{variant}/seed{seed}/run.json",
    params:
        spec=run_spec_json,
        out=subpath(output.metrics, parent=True),
        data=DATA,
    log:
        "results/logs/train/{experiment}/{variant}/seed{seed}.log",
    threads: config["threads_per_run"]
    shell:
        "dlrepro train --spec {params.spec:q} --out {params.out:q} --data {params.data} 2> {log:q}"


rule determinism:
    input:
        reference=lambda w: f"{determinism_run().path}/metrics.json",
        data=DATA,
    output:
        "results/determinism.json",
    params:
        spec=lambda w: json.dumps(determinism_run().spec(config), sort_keys=True),
    log:
        "results/logs/determinism.log",
    threads: config["threads_per_run"]
    shell:
        "dlrepro determinism --spec {params.spec:q} --reference {input.reference:q} "
        "--data {input.data} --result {output} --quiet 2> {log:q}"
