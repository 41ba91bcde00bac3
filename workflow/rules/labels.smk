# From clusters to labels: cluster cards with contact sheets, label templates, propagation.


rule draw_cards:
    input:
        assignments="results/clusters/{model}/{variant}/k{k}/assignments.parquet",
        centroids="results/clusters/{model}/{variant}/k{k}/centroids.npy",
        sizes="results/clusters/{model}/{variant}/k{k}/sizes.tsv",
        thumbnails=images_root_input(),
    output:
        cards="results/cards/{model}/{variant}/k{k}/cards.tsv",
        sheets=directory("results/cards/{model}/{variant}/k{k}/sheets"),
    log:
        "results/logs/draw_cards/{model}/{variant}/k{k}.log",
    benchmark:
        "results/benchmarks/draw_cards/{model}/{variant}/k{k}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(600, 4),
        runtime=runtime_min(5, 10),
    params:
        root=images_root,
        seed=config["seed"],
    script:
        "../../scripts/draw_cards.py"


rule make_label_template:
    input:
        sizes=f"{CLUSTERS}/sizes.tsv",
    output:
        template="results/labels/templates/{model}_{variant}_k{k}.yaml",
    log:
        "results/logs/make_label_template/{model}_{variant}_k{k}.log",
    benchmark:
        "results/benchmarks/make_label_template/{model}_{variant}_k{k}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=400,
        runtime=2,
    params:
        # the fields, with or without ground truth; a change reruns the templates and pages
        label_attributes=config["label_attributes"],
    script:
        "../../scripts/make_label_template.py"


rule propagate_labels:
    input:
        unpack(label_inputs),
        images="results/ingest/images.parquet",
        outliers="results/outliers/outliers.parquet",
        attributes=ground_truth(),
    output:
        labels="results/labels/labels.parquet",
        summary=report(
            "results/summary/labels.tsv",
            caption="../report/labels.rst",
            category="Labels",
        ),
        accuracy=report(
            "results/summary/label_accuracy.tsv",
            caption="../report/label_accuracy.rst",
            category="Labels",
        ),
    log:
        "results/logs/propagate_labels.log",
    benchmark:
        "results/benchmarks/propagate_labels.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(800, 6),
        runtime=runtime_min(5, 10),
    params:
        entries=label_settings(),
        allowed=config["label_values"],
    script:
        "../../scripts/propagate_labels.py"
