# k-scan: one KMeans per (model, variant, k) with its validity indices, then tables and plots.


rule scan_k:
    input:
        reduced="results/pca/{model}/{variant}/reduced.npy",
        # purity per attribute: the labelling effort, computed where every row is assigned
        attributes=ground_truth_codes(),
    output:
        row="results/kscan/{model}/{variant}/k{k}.tsv",
        centroids="results/kscan/{model}/{variant}/k{k}_centroids.npy",
    log:
        "results/logs/scan_k/{model}/{variant}/k{k}.log",
    benchmark:
        "results/benchmarks/scan_k/{model}/{variant}/k{k}.tsv"
    conda:
        ENV
    threads: config["threads"]
    resources:
        # measured at 416,314 x 250 (a 397 MiB input, memory-mapped): at most 470 MiB and
        # 7 s per job (two cores shared with other work)
        mem_mb=mem_mb(400, 1.5),
        runtime=runtime_min(1, 5),
    params:
        seed=config["seed"],
        n_init=config["clustering"]["kscan_n_init"],
        max_iter=config["clustering"]["max_iter"],
        rows_per_cluster=config["clustering"]["kscan_rows_per_cluster"],
        min_rows=config["clustering"]["kscan_min_rows"],
        silhouette_sample=config["clustering"]["silhouette_sample"],
    script:
        "../../scripts/scan_k.py"


rule summarize_kscan:
    input:
        rows=kscan_rows,
    output:
        scan="results/kscan/{model}/kscan.tsv",
        suggested="results/kscan/{model}/suggested_k.tsv",
        effort="results/kscan/{model}/labelling_effort.tsv",
    log:
        "results/logs/summarize_kscan/{model}.log",
    benchmark:
        "results/benchmarks/summarize_kscan/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    script:
        "../../scripts/summarize_kscan.py"


rule collect_kscan:
    input:
        tables=expand("results/kscan/{model}/kscan.tsv", model=MODELS),
    output:
        table=report(
            "results/summary/kscan.tsv",
            caption="../report/kscan_table.rst",
            category="k-scan",
        ),
    log:
        "results/logs/collect_kscan.log",
    benchmark:
        "results/benchmarks/collect_kscan.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    script:
        "../../scripts/collect_tables.py"


rule collect_suggested_k:
    input:
        tables=expand("results/kscan/{model}/suggested_k.tsv", model=MODELS),
    output:
        table=report(
            "results/summary/suggested_k.tsv",
            caption="../report/suggested_k.rst",
            category="k-scan",
        ),
    log:
        "results/logs/collect_suggested_k.log",
    benchmark:
        "results/benchmarks/collect_suggested_k.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    script:
        "../../scripts/collect_tables.py"


rule plot_kscan:
    input:
        scan="results/kscan/{model}/kscan.tsv",
        suggested="results/kscan/{model}/suggested_k.tsv",
    output:
        plot=report(
            "results/plots/kscan_{model}.png",
            caption="../report/kscan.rst",
            category="k-scan",
            subcategory="{model}",
        ),
    log:
        "results/logs/plot_kscan/{model}.log",
    benchmark:
        "results/benchmarks/plot_kscan/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=800,
        runtime=2,
    params:
        final_ks=lambda wildcards: config["kmeans"][wildcards.model],
    script:
        "../../scripts/plot_kscan.py"


rule collect_labelling_effort:
    input:
        tables=expand("results/kscan/{model}/labelling_effort.tsv", model=MODELS),
    output:
        table=report(
            "results/summary/labelling_effort.tsv",
            caption="../report/labelling_effort.rst",
            category="Validation",
        ),
    log:
        "results/logs/collect_labelling_effort.log",
    benchmark:
        "results/benchmarks/collect_labelling_effort.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    script:
        "../../scripts/collect_tables.py"


rule plot_labelling_effort:
    input:
        effort="results/kscan/{model}/labelling_effort.tsv",
    output:
        plot=report(
            "results/plots/effort_{model}.png",
            caption="../report/labelling_effort_plot.rst",
            category="Validation",
            subcategory="{model}",
        ),
    log:
        "results/logs/plot_labelling_effort/{model}.log",
    benchmark:
        "results/benchmarks/plot_labelling_effort/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=800,
        runtime=2,
    params:
        final_ks=lambda wildcards: config["kmeans"][wildcards.model],
    script:
        "../../scripts/plot_labelling_effort.py"
