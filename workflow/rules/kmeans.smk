# Final KMeans clusterings at the configured k values, and each model's digest.


rule cluster_kmeans:
    input:
        reduced="results/pca/{model}/{variant}/reduced.npy",
        images="results/ingest/images.parquet",
        # one run starts from the k-scan's best centroids: never worse than the scan
        scan_centroids=scan_centroids,
    output:
        assignments="results/clusters/{model}/{variant}/k{k}/assignments.parquet",
        centroids="results/clusters/{model}/{variant}/k{k}/centroids.npy",
        sizes=report(
            "results/clusters/{model}/{variant}/k{k}/sizes.tsv",
            caption="../report/sizes.rst",
            category="Clusterings",
            subcategory="{model}",
            labels={"variant": "{variant}", "k": "{k}"},
        ),
        fit="results/clusters/{model}/{variant}/k{k}/fit.tsv",
    log:
        "results/logs/cluster_kmeans/{model}/{variant}/k{k}.log",
    benchmark:
        "results/benchmarks/cluster_kmeans/{model}/{variant}/k{k}.tsv"
    conda:
        ENV
    threads: config["threads"]
    resources:
        mem_mb=mem_mb(800, 3),
        runtime=runtime_min(5, 30),
    params:
        seed=config["seed"],
        n_init=config["clustering"]["n_init"],
        max_iter=config["clustering"]["max_iter"],
    script:
        "../../scripts/cluster_kmeans.py"


rule summarize_model:
    input:
        variants="results/pca/{model}/variants.tsv",
        suggested="results/kscan/{model}/suggested_k.tsv",
        sizes=lambda wildcards: clustering_files(f"{CLUSTERS}/sizes.tsv", [wildcards.model]),
        # the digest is the target of a whole model branch: `snakemake results/summary/models/M.tsv`
        branch=lambda wildcards: model_outputs(wildcards.model),
    output:
        digest=report(
            "results/summary/models/{model}.tsv",
            caption="../report/model_digest.rst",
            category="Models",
        ),
    log:
        "results/logs/summarize_model/{model}.log",
    benchmark:
        "results/benchmarks/summarize_model/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    params:
        final_clusterings=lambda wildcards: final_clusterings(wildcards.model),
    script:
        "../../scripts/summarize_model.py"
