"""Rule reduce_pca: project every row on one variant's components; each row's distance to them."""
from descluster.runner import run_step
from descluster.steps.pca import reduce_pca


def main(smk):
    reduce_pca(
        descriptors_npy=smk.input.descriptors,
        fit_path=smk.input.fit,
        variants_tsv=smk.input.variants,
        variant=smk.wildcards.variant,
        batch_rows=smk.params.batch_rows,
        out_npy=smk.output.reduced,
        out_residual=smk.output.residual,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
