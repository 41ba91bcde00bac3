"""Rule reduce_pca: project every row on one variant's components."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.reduce_pca(smk.input.descriptors, smk.input.fit, smk.input.variants,
                     smk.wildcards.pca, smk.params.batch_rows, smk.output.reduced)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
