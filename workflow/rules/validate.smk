# Validation of every final clustering against ground-truth attributes (when configured).


rule validate_clusterings:
    input:
        assignments=clustering_files(f"{CLUSTERS}/assignments.parquet"),
        attributes=ATTRIBUTE_CODES,
    output:
        validation=report(
            "results/summary/validation.tsv",
            caption="../report/validation.rst",
            category="Validation",
        ),
        ranking=report(
            "results/summary/model_ranking.tsv",
            caption="../report/model_ranking.rst",
            category="Validation",
        ),
        recommended=report(
            "results/summary/recommended.tsv",
            caption="../report/recommended.rst",
            category="Validation",
        ),
    log:
        "results/logs/validate_clusterings.log",
    benchmark:
        "results/benchmarks/validate_clusterings.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(800, 4),
        runtime=runtime_min(5, 20),
    script:
        "../../scripts/validate_clusterings.py"


rule compare_clusterings:
    input:
        assignments=clustering_files(f"{CLUSTERS}/assignments.parquet"),
    output:
        table=report(
            "results/summary/agreement.tsv",
            caption="../report/agreement_table.rst",
            category="Agreement",
        ),
        plot=report(
            "results/plots/agreement.png",
            caption="../report/agreement.rst",
            category="Agreement",
        ),
    log:
        "results/logs/compare_clusterings.log",
    benchmark:
        "results/benchmarks/compare_clusterings.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(800, 4),
        runtime=runtime_min(5, 30),
    script:
        "../../scripts/compare_clusterings.py"
