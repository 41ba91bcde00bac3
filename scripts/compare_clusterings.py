"""Rule compare_clusterings: agreement (ARI) between every pair of final clusterings."""
from descluster.runner import run_step
from descluster.steps.validate import compare_clusterings


def main(smk):
    compare_clusterings(assignment_parquets=smk.input.assignments, out_tsv=smk.output.table,
                        out_plot=smk.output.plot)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
