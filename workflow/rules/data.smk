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
