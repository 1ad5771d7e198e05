# One rule per experiment (train_<experiment>), one job per variant, every seed of the variant in
# that job; the experiment's short variants (each planned under the config's pack_seconds,
# src/dlrepro/plan.py) train together in one job of the rule train_<experiment>_short, which pays
# the start-up once. Each run checkpoints every epoch into its own folder: a killed job re-runs
# (Snakemake marks its outputs incomplete), its finished runs are restored from their final
# checkpoints and the others resume from their last. A job that completes prunes its checkpoints:
# a job re-run for one deleted seed retrains its siblings (and its pack) too, to identical files.
for _experiment in SEEDS:
    _rules = [(rule_name("train", _experiment), None)] if alone_variants(_experiment) else []
    if packed_variants(_experiment):
        _rules.append((rule_name("train", _experiment) + "_short", PACK))

    for _name, _pack in _rules:
        TRAINING_RULES.append(_name)

        rule:
            name:
                _name
            wildcard_constraints:
                variant="|".join(re.escape(v) for v in alone_variants(_experiment)) or "[^/]+",
            input:
                data=lambda w, e=_experiment, p=_pack: train_inputs(e, p or w.variant),
            output:
                **experiment_files(_experiment, packed_variants(_experiment) if _pack else "{variant}"),
            params:
                specs=lambda w, e=_experiment, p=_pack: json.dumps(
                    [run.spec(config) for run in job_runs(e, p or w.variant)], sort_keys=True),
                folders=lambda w, output: [os.path.dirname(m) for m in output.metrics],
                data=DATA,
                corpus=CORPUS,
                gpu_slots=config["slots_per_gpu"],
                attempt_log=lambda w, resources, e=_experiment, p=_pack: train_log(
                    e, p or w.variant, resources.attempt),
            log:
                train_log(_experiment, _pack or "{variant}"),
            threads: config["threads_per_run"]
            priority: PRIORITY.get(_experiment, 0)
            # On a cluster, training jobs share SLURM allocations (profiles/slurm: group-components);
            # where jobs run here, no group (a local group job would run its members in series).
            group:
                TRAIN_GROUP
            resources:
                gpu_slots=1 if config["device"] != "cpu" else 0,
                runtime=lambda w, attempt, e=_experiment, p=_pack: train_runtime(e, p or w.variant) * attempt,
                attempt=lambda w, attempt: attempt,
            conda:
                ENVIRONMENT
            # The binarised data (density families) are read from dlrepro.data.BINARISED, the CLI's
            # default, like the corpus's path (its input above is what makes Snakemake build it).
            # Each attempt writes its own log: Snakemake deletes the rule's log before a retry, and a
            # job killed by SLURM never gets to copy it. A finished attempt's log becomes the rule's
            # log; a failed or killed one stays as <job>.attempt<N>.log beside it.
            shell:
                "dlrepro train --spec {params.specs:q} --out {params.folders:q} --data {params.data} "
                "--corpus {params.corpus} --gpu-slots {params.gpu_slots} "
                "2> {params.attempt_log:q} && mv {params.attempt_log:q} {log:q} "
                "|| {{ cp {params.attempt_log:q} {log:q}; exit 1; }}"


rule determinism:
    input:
        reference=lambda w: f"{determinism_run().path}/{METRICS}",
        data=DATA,
    output:
        "results/determinism.json",
    params:
        # the reference's whole variant: its seeds may have trained together (seeds_together)
        spec=lambda w: json.dumps([run.spec(config) for run in variant_runs(
            determinism_run().experiment, determinism_run().variant)], sort_keys=True),
        gpu_slots=config["slots_per_gpu"],
    log:
        "results/logs/determinism.log",
    threads: config["threads_per_run"]
    resources:
        gpu_slots=1 if config["device"] != "cpu" else 0,
    conda:
        ENVIRONMENT
    shell:
        "dlrepro determinism --spec {params.spec:q} --reference {input.reference:q} "
        "--data {input.data} --gpu-slots {params.gpu_slots} --result {output} --quiet 2> {log:q}"
