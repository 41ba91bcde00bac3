# Ingest: check the paths file and every descriptor file; store them (descriptors as float32 .npy).


rule ingest_paths:
    input:
        paths=config["images"]["paths"],
    output:
        images="results/ingest/images.parquet",
    log:
        "results/logs/ingest_paths.log",
    benchmark:
        "results/benchmarks/ingest_paths.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(300, 10),
        runtime=runtime_min(2, 10),
    script:
        "../../scripts/ingest_paths.py"


rule ingest_descriptors:
    input:
        descriptors=lambda wildcards: config["descriptors"][wildcards.model],
        images="results/ingest/images.parquet",
    output:
        descriptors="results/ingest/{model}.npy",
    log:
        "results/logs/ingest_descriptors/{model}.log",
    benchmark:
        "results/benchmarks/ingest_descriptors/{model}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        # the array is held once; a protocol-2 pickle needs about 2.3x while loading;
        # a Parquet file is decoded in a child process and sent back (ingest_mem_mb)
        mem_mb=ingest_mem_mb,
        runtime=runtime_min(3, 4),
    script:
        "../../scripts/ingest_descriptors.py"


rule ingest_attributes:
    input:
        files=config["attributes"],
        images="results/ingest/images.parquet",
    output:
        attributes=ATTRIBUTES_PARQUET,
        codes=ATTRIBUTE_CODES,
        matches=report(
            "results/ingest/attributes_match.tsv",
            caption="../report/attributes_match.rst",
            category="Validation",
        ),
    log:
        "results/logs/ingest_attributes.log",
    benchmark:
        "results/benchmarks/ingest_attributes.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=mem_mb(600, 12),
        runtime=runtime_min(3, 10),
    params:
        format=config["attributes_format"],
        veriwild_columns=config["veriwild_columns"],
    script:
        "../../scripts/ingest_attributes.py"
