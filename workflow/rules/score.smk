# The scoring stage: image runs (autoencoder, vae, gan, image-metrics) leave reconstructions and
# samples in their folders; these rules rate them. Re-scoring never re-trains:
#   snakemake --cores all --forcerun score_autoencoder      (or delete results/scores/)


# The Fashion-MNIST classifier whose penultimate features give the Fréchet distance (no Inception
# weights needed) and whose predictions give the cGAN's class accuracy.
rule feature_classifier:
    input:
        DATA,
    output:
        metrics=f"{FEATURE_CLASSIFIER_DIR}/metrics.json",
    params:
        spec=json.dumps(FEATURE_CLASSIFIER.spec(config), sort_keys=True),
        gpu_slots=config["slots_per_gpu"],
    log:
        "results/logs/feature_classifier.log",
    threads: config["threads_per_run"]
    resources:
        gpu_slots=1 if config["device"] != "cpu" else 0,
    shell:
        "dlrepro train --spec {params.spec:q} --out {FEATURE_CLASSIFIER_DIR} --data {input} "
        "--gpu-slots {params.gpu_slots} 2> {log:q}"


for _experiment, _seeds in SEEDS.items():
    if not is_image_experiment(_experiment):
        continue

    rule:
        name:
            "score_" + _experiment.replace("-", "_")
        input:
            runs=[f"results/runs/{_experiment}/{{variant}}/seed{s}/metrics.json" for s in _seeds],
            classifier=rules.feature_classifier.output.metrics,
            data=DATA,
            # new or replaced LPIPS weights re-score (and only the scoring re-runs)
            lpips=[LPIPS.file] if LPIPS.available else [],
        output:
            [f"results/scores/{_experiment}/{{variant}}/seed{s}.json" for s in _seeds],
        params:
            runs=lambda w, input: [os.path.dirname(m) for m in input.runs],
            lpips=config["metrics"]["lpips"],
            lpips_size=config["metrics"]["lpips_size"],
        log:
            f"results/logs/score/{_experiment}/{{variant}}.log",
        threads: config["threads_per_run"]
        shell:
            "dlrepro score --runs {params.runs:q} --out {output:q} "
            "--classifier {FEATURE_CLASSIFIER_DIR} --data {input.data} "
            "--torch-home {TORCH_HOME:q} --lpips {params.lpips} --lpips-size {params.lpips_size} "
            "2> {log:q}"
