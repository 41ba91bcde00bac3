"""Rule ingest_paths: check images.paths and store it as Parquet."""
from descluster.runner import run_step
from descluster.steps.ingest import ingest_paths


def main(smk):
    ingest_paths(paths_csv=smk.input.paths, out_parquet=smk.output.images)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
