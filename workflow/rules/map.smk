# Maps: a 2-D layout of all images per model-variant (label-independent, the expensive part),
# then its page in the browser, coloured by clusterings, ground truth, labels and outliers.


rule layout_map:
    input:
        reduced="results/pca/{model}/{variant}/reduced.npy",
    output:
        layout="results/map/{model}/{variant}/layout.npy",
    log:
        "results/logs/layout_map/{model}/{variant}.log",
    benchmark:
        "results/benchmarks/layout_map/{model}/{variant}.tsv"
    conda:
        ENV
    threads: config["threads"]
    resources:
        # measured at 416,314 x 250: 564 MB, 6.7 s (docs/performance.md)
        mem_mb=mem_mb(600, 1.5),
        runtime=runtime_min(5, 10),
    params:
        seed=config["seed"],
    script:
        "../../scripts/layout_map.py"


rule draw_map:
    input:
        layout="results/map/{model}/{variant}/layout.npy",
        images="results/ingest/images.parquet",
        # the final clusterings of this model-variant: the colourings by cluster
        assignments=lambda w: expand(
            f"{CLUSTERS}/assignments.parquet",
            model=w.model,
            variant=w.variant,
            k=config["kmeans"][w.model],
        ),
        # every clustering's template and listed label file: the page marks images in the
        # working clustering's, whichever it is
        templates=clustering_files("results/labels/templates/{model}_{variant}_k{k}.yaml"),
        label_files=[entry["file"] for entry in config["labels"]],
        outliers="results/outliers/outliers.parquet",
        ground_truth=ground_truth(),
        labels=["results/labels/labels.parquet"] if config["labels"] else [],
        thumbnails=images_root_input(),
        paths_script="results/report/paths.js",
    output:
        page="results/report/map_{model}_{variant}.html",
        data="results/report/map_{model}_{variant}.js",
    log:
        "results/logs/draw_map/{model}/{variant}.log",
    benchmark:
        "results/benchmarks/draw_map/{model}/{variant}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        # measured at 416,314 images, 6 clusterings, ground truth: 584 MB, 4.4 s
        mem_mb=mem_mb(800, 3),
        runtime=runtime_min(5, 10),
    params:
        clusterings=lambda w: [
            clustering_id(w.model, w.variant, k) for k in config["kmeans"][w.model]
        ],
        targets=clustering_ids(),
        label_entries=label_settings(),
        allowed=config["label_values"],
        root=images_root,
    script:
        "../../scripts/draw_map.py"
