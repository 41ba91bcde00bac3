# The offline HTML browser under results/report/.


rule build_site:
    input:
        cards=clustering_files(f"{CARDS}/cards.tsv"),
        sheets=clustering_files(f"{CARDS}/sheets"),
        templates=clustering_files("results/labels/templates/{model}_{pca}_k{k}.yaml"),
        digests=expand("results/summary/models/{model}.tsv", model=MODELS),
        pca_plots=expand("results/pca/{model}/explained_variance.png", model=MODELS),
        kscan_plots=expand("results/plots/kscan_{model}.png", model=MODELS),
        agreement="results/plots/agreement.png",
        outliers="results/outliers/outliers.parquet",
        outlier_sheet="results/outliers/top_outliers.jpg",
        outlier_summary="results/summary/outliers.tsv",
        optional=[path for path in optional_site_tables().values() if path],
    output:
        index="results/report/index.html",
        pages=page_files(),
        outliers="results/report/outliers.html",
    params:
        clusterings=[
            {"name": f"{m}/{p}/k{k}", "cards": f"{CARDS}/cards.tsv".format(model=m, pca=p, k=k),
             "sheets": f"{CARDS}/sheets".format(model=m, pca=p, k=k),
             "template": f"results/labels/templates/{m}_{p}_k{k}.yaml"}
            for m in MODELS for p, k in final_clusterings(m)
        ],
        optional=optional_site_tables(),
    log:
        "results/logs/build_site.log",
    benchmark:
        "results/benchmarks/build_site.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(600, 1),
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/build_site.py"
