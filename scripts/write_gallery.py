"""Rule write_gallery: every member of a clustering's clusters, as the browser's gallery chunks."""
from pathlib import Path

from descluster.runner import run_step
from descluster.steps.site import write_gallery


def main(smk):
    write_gallery(assignments_parquet=smk.input.assignments,
                  page_stem=Path(smk.output.gallery).name, out_folder=smk.output.gallery)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
