"""Rule ingest_descriptors: load one descriptor file safely, check it, store it as Parquet."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.ingest_descriptors(smk.input.descriptors, smk.input.images, smk.output.descriptors)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
