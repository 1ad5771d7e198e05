# The scoring stage: image runs (autoencoder, vae, gan, image-metrics) leave reconstructions and
# samples in their folders; these rules rate them. Re-scoring never re-trains:
#   snakemake --cores all --forcerun score_autoencoder      (or delete results/scores/)


# The Fashion-MNIST classifier whose penultimate features give the Fréchet distance (no Inception
# weights needed) and whose predictions give the cGAN's class accuracy.
rule feature_classifier:
    input:
        DATA,
    output:
        **FEATURE_CLASSIFIER_FILES,
    params:
        spec=json.dumps(FEATURE_CLASSIFIER.spec(config), sort_keys=True),
        folder=lambda w, output: os.path.dirname(output.metrics),
        gpu_slots=config["slots_per_gpu"],
    log:
        "results/logs/feature_classifier.log",
    threads: config["threads_per_run"]
    resources:
        gpu_slots=1 if config["device"] != "cpu" else 0,
    conda:
        ENVIRONMENT
    shell:
        "dlrepro train --spec {params.spec:q} --out {params.folder:q} --data {input} "
        "--gpu-slots {params.gpu_slots} 2> {log:q}"


# One scoring job per experiment: every variant and seed in one process, which loads torch, the
# classifier and LPIPS once (~5 s measured on two cores) instead of once per variant.
for _experiment in SEEDS:
    if not is_image_experiment(_experiment):
        continue

    rule:
        name:
            rule_name("score", _experiment)
        input:
            runs=[f"{run.path}/{METRICS}" for run in scored_runs(_experiment)],
            outputs=[f"{run.path}/{OUTPUTS}" for run in scored_runs(_experiment)],
            classifier=rules.feature_classifier.output.metrics,
            data=DATA,
            # new or replaced LPIPS weights re-score (and only the scoring re-runs)
            lpips=[LPIPS.file] if LPIPS.available else [],
        output:
            [score_file(run) for run in scored_runs(_experiment)],
        params:
            runs=lambda w, input: [os.path.dirname(m) for m in input.runs],
            classifier=lambda w, input: os.path.dirname(input.classifier),
            # the folder of the weights file given as input (no LPIPS: the configured folder)
            torch_home=lambda w, input: torch_home_of(input.lpips[0]) if input.lpips else TORCH_HOME,
            lpips=config["metrics"]["lpips"],
            lpips_size=config["metrics"]["lpips_size"],
        log:
            f"results/logs/score/{_experiment}.log",
        threads: config["threads_per_run"]
        conda:
            ENVIRONMENT
        shell:
            "dlrepro score --runs {params.runs:q} --out {output:q} "
            "--classifier {params.classifier:q} --data {input.data} "
            "--torch-home {params.torch_home:q} --lpips {params.lpips} "
            "--lpips-size {params.lpips_size} 2> {log:q}"
