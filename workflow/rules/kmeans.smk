# Final KMeans clusterings at the configured k values, and each model's digest.

from descluster.clustering import scan_fit_rows


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
        # measured at 416,314 x 250 (a 397 MiB input): at most 625 MiB and 15 s per job
        mem_mb=mem_mb(600, 1.5),
        runtime=runtime_min(2, 10),
    params:
        seed=config["seed"],
        n_init=config["clustering"]["n_init"],
        max_iter=config["clustering"]["max_iter"],
        # the runs not from the scan's centroids start from fits as the scan's, other seeds
        scan_n_init=config["clustering"]["kscan_n_init"],
        scan_rows=lambda wildcards: scan_fit_rows(
            int(wildcards.k),
            config["clustering"]["kscan_rows_per_cluster"],
            config["clustering"]["kscan_min_rows"],
        ),
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
