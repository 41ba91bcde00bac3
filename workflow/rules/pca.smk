# PCA: one fit per model (at its largest variant) and its plot, then one reduced matrix per variant
# (and each row's distance to that variant's subspace, for the outlier score).


rule fit_pca:
    input:
        descriptors="results/ingest/{model}.npy",
    output:
        fit="results/pca/{model}/pca.npz",
        curve=report(
            "results/pca/{model}/explained_variance.tsv",
            caption="../report/explained_variance_table.rst",
            category="PCA",
            subcategory="{model}",
        ),
        variants="results/pca/{model}/variants.tsv",
    log:
        "results/logs/fit_pca/{model}.log",
    benchmark:
        "results/benchmarks/fit_pca/{model}.tsv"
    conda:
        ENV
    threads: config["threads"]
    resources:
        # measured at 416,314 x 2560: 1.8 GB (one 16k-row batch, d x d sums);
        # grows with d squared (200 x 12,000 took 5.7 GB): pca_fit_mem_mb
        mem_mb=pca_fit_mem_mb,
        runtime=runtime_min(3, 6),
    params:
        # the user's descriptor file, which errors name
        source=lambda wildcards: config["descriptors"][wildcards.model],
        variants=lambda wildcards: config["pca"][wildcards.model],
        method=config["pca_method"],
        batch_rows=config["pca_batch_rows"],
    script:
        "../../scripts/fit_pca.py"


rule plot_explained_variance:
    input:
        curve="results/pca/{model}/explained_variance.tsv",
        variants="results/pca/{model}/variants.tsv",
    output:
        plot=report(
            "results/pca/{model}/explained_variance.png",
            caption="../report/explained_variance.rst",
            category="PCA",
            subcategory="{model}",
        ),
    log:
        "results/logs/plot_explained_variance/{model}.log",
    benchmark:
        "results/benchmarks/plot_explained_variance/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=800,
        runtime=2,
    script:
        "../../scripts/plot_explained_variance.py"


rule reduce_pca:
    input:
        descriptors="results/ingest/{model}.npy",
        fit="results/pca/{model}/pca.npz",
        variants="results/pca/{model}/variants.tsv",
    output:
        reduced="results/pca/{model}/{variant}/reduced.npy",
        residual="results/pca/{model}/{variant}/residual.npy",
    log:
        "results/logs/reduce_pca/{model}/{variant}.log",
    benchmark:
        "results/benchmarks/reduce_pca/{model}/{variant}.tsv"
    conda:
        ENV
    threads: config["threads"]
    resources:
        # measured at 416,314 x 2560 -> 250: 2.0 GB (a batch and the written memory map),
        # before the residual added a batch-sized reconstruction (16,384 x 2560 float32: 160 MB)
        mem_mb=mem_mb(1200, 0.3),
        runtime=runtime_min(2, 3),
    params:
        batch_rows=config["pca_batch_rows"],
    script:
        "../../scripts/reduce_pca.py"
