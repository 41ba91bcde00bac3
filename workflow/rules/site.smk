# The offline HTML browser under results/report/: pages, and files/ (scripts, data, thumbnails).


rule write_paths:
    input:
        images="results/ingest/images.parquet",
        # each original is checked before a page may show it
        thumbnails=images_root_input(),
    output:
        paths="results/report/paths.js",
    log:
        "results/logs/write_paths.log",
    benchmark:
        "results/benchmarks/write_paths.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(400, 2),
        runtime=runtime_min(2, 10),
    params:
        root=images_root,
    script:
        "../../scripts/write_paths.py"


rule write_gallery:
    input:
        assignments=f"{CLUSTERS}/assignments.parquet",
    output:
        gallery=directory("results/report/gallery/{model}_{variant}_k{k}"),
    log:
        "results/logs/write_gallery/{model}_{variant}_k{k}.log",
    benchmark:
        "results/benchmarks/write_gallery/{model}_{variant}_k{k}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(400, 4),
        runtime=runtime_min(2, 10),
    script:
        "../../scripts/write_gallery.py"


rule build_site:
    input:
        cards=clustering_files(f"{CARDS}/cards.tsv"),
        sheets=clustering_files(f"{CARDS}/sheets"),
        assignments=clustering_files(f"{CLUSTERS}/assignments.parquet"),
        # label-independent, so a label edit does not rewrite them
        galleries=clustering_files("results/report/gallery/{model}_{variant}_k{k}"),
        paths_script="results/report/paths.js",
        templates=clustering_files("results/labels/templates/{model}_{variant}_k{k}.yaml"),
        digests=expand("results/summary/models/{model}.tsv", model=MODELS),
        pca_plots=expand("results/pca/{model}/explained_variance.png", model=MODELS),
        kscan_plots=expand("results/plots/kscan_{model}.png", model=MODELS),
        agreement="results/plots/agreement.png",
        outliers="results/outliers/outliers.parquet",
        outlier_sheet="results/outliers/top_outliers.jpg",
        outlier_summary="results/summary/outliers.tsv",
        tables=list(site_tables().values()),
        recommended=(["results/summary/recommended.tsv"] if config["attributes"] else []),
        ground_truth=ground_truth(),
        labels=["results/labels/labels.parquet"] if config["labels"] else [],
        # the files the run used: each listed clustering's pages start from its own
        label_files=[entry["file"] for entry in config["labels"]],
        thumbnails=images_root_input(),
    output:
        index="results/report/index.html",
        pages=page_files(),
        outliers="results/report/outliers.html",
        # a review page per clustering listed under labels
        reviews=[
            "results/report/review_{}_{}_k{}.html".format(
                *parse_clustering_id(entry["clustering"])
            )
            for entry in config["labels"]
        ],
        files=directory("results/report/files"),
    log:
        "results/logs/build_site.log",
    benchmark:
        "results/benchmarks/build_site.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(600, 2),
        runtime=runtime_min(5, 10),
    params:
        clusterings=clustering_ids(),
        tables=list(site_tables()),
        root=images_root,
        seed=config["seed"],
        label_entries=label_settings(),
        label_fields=config["label_attributes"],
        allowed=config["label_values"],
    script:
        "../../scripts/build_site.py"
