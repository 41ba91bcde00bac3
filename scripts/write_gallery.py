"""Rule write_gallery: every member of a clustering's clusters, as the browser's gallery chunks."""
from pathlib import Path

from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.write_gallery(smk.input.assignments, Path(smk.output.gallery).name, smk.output.gallery)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
