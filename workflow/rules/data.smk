# External assets are gathered here, on the machine that runs Snakemake (a login node on a
# cluster): training jobs read only the prepared files, so compute nodes need no network.
localrules:
    prepare_data,
    prepare_corpus,
    prefetch,


rule prepare_data:
    output:
        DATA,
    params:
        folder=config["data"]["fashion_mnist_dir"],
        download="--download" if config["data"]["download"] else "",
    log:
        "results/logs/prepare_data.log",
    shell:
        "dlrepro prepare-data --dir {params.folder:q} {params.download} --out {output} 2> {log}"


# The word2vec corpus from packaged text (gensim's Wikipedia extract, Debian's WordNet glosses).
rule prepare_corpus:
    output:
        CORPUS,
    params:
        sources=" ".join(config["word2vec_corpus"]["sources"]),
        path=f"--path {config['word2vec_corpus']['path']}" if config["word2vec_corpus"]["path"] else "",
        wordnet=config["word2vec_corpus"]["wordnet_dir"],
    log:
        "results/logs/prepare_corpus.log",
    shell:
        "dlrepro prepare-corpus --sources {params.sources} {params.path} "
        "--wordnet-dir {params.wordnet:q} --out {output} 2> {log}"


# `snakemake prefetch`: fetch every external asset the DAG needs, and list them with checksums:
# the data, and LPIPS' AlexNet weights into metrics.torch_home (needs internet; with
# metrics.lpips: auto a failed download is a warning and LPIPS is reported as unavailable).
rule prefetch:
    input:
        DATA,
        [CORPUS] if uses_corpus() else [],
    output:
        "results/assets.json",
    params:
        fetch=(
            ""
            if config["metrics"]["lpips"] == "off"
            else f"dlrepro fetch-weights --torch-home {TORCH_HOME} "
            + ("" if config["metrics"]["lpips"] == "required" else "--optional ")
            + "&& "
        ),
        torch_home=TORCH_HOME if config["metrics"]["lpips"] != "off" else "",
    shell:
        "{params.fetch}dlrepro manifest {input:q} --torch-home '{params.torch_home}' --out {output}"
