"""Rule compare_clusterings: agreement (ARI) between every pair of final clusterings."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.compare_clusterings(smk.input.assignments, smk.output.table, smk.output.plot)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
