# Outliers: label-independent scores per clustering (the expensive part), then their
# combination with the clusters labelled outlier, across models (cheap: a label edit reruns it).


rule score_outliers:
    input:
        reduced="results/pca/{model}/{variant}/reduced.npy",
        residual="results/pca/{model}/{variant}/residual.npy",
        fit="results/pca/{model}/pca.npz",
        assignments=f"{CLUSTERS}/assignments.parquet",
        sizes=f"{CLUSTERS}/sizes.tsv",
    output:
        scores="results/outliers/{model}/{variant}/k{k}/scores.parquet",
    log:
        "results/logs/score_outliers/{model}/{variant}/k{k}.log",
    benchmark:
        "results/benchmarks/score_outliers/{model}/{variant}/k{k}.tsv"
    conda:
        ENV
    threads: config["threads"]
    resources:
        # measured at 416,314 x 250: 639 MiB (neighbours of every row, the 20,000-row reference)
        mem_mb=mem_mb(800, 3),
        runtime=runtime_min(5, 30),
    params:
        # only the settings the scores use: changing outliers.rate reruns combine_outliers alone
        neighbours=config["outliers"]["neighbours"],
        reference_sample=config["outliers"]["reference_sample"],
        tiny_cluster=config["outliers"]["tiny_cluster"],
        seed=config["seed"],
    script:
        "../../scripts/score_outliers.py"


rule combine_outliers:
    input:
        scores=[item["scores"] for item in outlier_clusterings()],
        label_files=[entry["file"] for entry in config["labels"]],
        images="results/ingest/images.parquet",
        attributes=ground_truth(),
        thumbnails=images_root_input(),
    output:
        scores="results/outliers/outliers.parquet",
        sheet=report(
            "results/outliers/top_outliers.jpg",
            caption="../report/top_outliers.rst",
            category="Outliers",
        ),
        summary=report(
            "results/summary/outliers.tsv",
            caption="../report/outliers.rst",
            category="Outliers",
        ),
    log:
        "results/logs/combine_outliers.log",
    benchmark:
        "results/benchmarks/combine_outliers.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(800, 2),
        runtime=runtime_min(5, 10),
    params:
        clusterings=[
            {"model": i["model"], "variant": i["variant"], "clustering": i["clustering"]}
            for i in outlier_clusterings()
        ],
        label_settings=label_settings(),
        root=images_root,
        rate=config["outliers"]["rate"],
        seed=config["seed"],
    script:
        "../../scripts/combine_outliers.py"
