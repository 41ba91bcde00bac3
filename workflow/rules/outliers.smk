# Outliers: a score per image and model-variant, combined across models, flagged at a rate.


rule score_outliers:
    input:
        [f for item in outlier_inputs() for f in (item["reduced"], item["assignments"], item["sizes"])],
        label_input_files(),
        images="results/ingest/images.parquet",
        attributes=config["attributes"] or [],
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
    params:
        inputs=outlier_inputs(),
        label_entries=label_entries(),
        root=images_root,
        settings=config["outliers"],
        seed=config["seed"],
    log:
        "results/logs/score_outliers.log",
    benchmark:
        "results/benchmarks/score_outliers.tsv"
    threads: config["threads"]
    resources:
        mem_mb=mem_mb(1000, 3),
        runtime=runtime_min(10, 30),
    conda:
        ENV
    script:
        "../../scripts/score_outliers.py"
