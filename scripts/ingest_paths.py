"""Rule ingest_paths: check images.paths and store it as Parquet."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.ingest_paths(smk.input.paths, smk.output.images)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
