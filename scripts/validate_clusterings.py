"""Rule validate_clusterings: every final clustering against the ground-truth attributes."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.validate_clusterings(smk.input.assignments, smk.input.attributes,
                               smk.output.validation, smk.output.ranking)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
