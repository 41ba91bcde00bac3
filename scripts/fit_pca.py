"""Rule fit_pca: one PCA per model at its largest variant; explained-variance table."""
from descluster.runner import run_step
from descluster.steps.pca import fit_pca


def main(smk):
    fit_pca(
        descriptors_npy=smk.input.descriptors,
        source=smk.params.source,
        variants=smk.params.variants,
        method=smk.params.method,
        batch_rows=smk.params.batch_rows,
        model=smk.wildcards.model,
        out_fit=smk.output.fit,
        out_curve=smk.output.curve,
        out_variants=smk.output.variants,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
