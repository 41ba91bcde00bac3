"""Rule write_paths: every image path, front-coded, for the browser's pages to look up by row,
and the rows whose original file the pages must not show."""
from descluster.runner import run_step
from descluster.steps.site import write_paths


def main(smk):
    write_paths(images_parquet=smk.input.images, images_root=smk.params.root,
                out_script=smk.output.paths)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
