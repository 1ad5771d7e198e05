# External assets are gathered here, on the machine that runs Snakemake (a login node on a
# cluster): training jobs read only the prepared files, so compute nodes need no network.
localrules:
    prepare_data,
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


# `snakemake prefetch`: fetch every external asset the DAG needs, and list them with checksums.
rule prefetch:
    input:
        DATA,
    output:
        "results/assets.json",
    shell:
        "dlrepro manifest {input:q} --out {output}"
