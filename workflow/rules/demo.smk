# The embedded demo dataset: built only when the config points at results/demo (the default).


rule make_demo:
    output:
        descriptors=expand(f"{DEMO_DIR}/descriptors/{{model}}.pickle", model=DEMO_MODEL_DIMS),
        paths=DEMO_PATHS_CSV,
        vehicle_info=f"{DEMO_DIR}/vehicle_info.txt",
        attributes=f"{DEMO_DIR}/attributes.csv",
        images=directory(f"{DEMO_DIR}/images"),
    log:
        "results/logs/make_demo.log",
    benchmark:
        "results/benchmarks/make_demo.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: int(
            (500 + config["demo"]["n_images"] * 3712 * 4 * 2.2 / 2**20) * attempt
        ),
        runtime=lambda wildcards, attempt: int(5 + config["demo"]["n_images"] / 4000) * attempt,
    params:
        n_images=config["demo"]["n_images"],
        thumbnails=config["demo"]["thumbnails"],
        seed=config["seed"],
    script:
        "../../scripts/make_demo.py"
