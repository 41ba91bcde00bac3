"""Rule write_paths: every image path, front-coded, for the browser's pages to look up by row."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.write_paths(smk.input.images, smk.output.paths)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
