"""Rule plot_explained_variance: one model's cumulative explained variance, variants marked."""
from descluster.runner import run_step
from descluster.steps.pca import plot_explained_variance


def main(smk):
    plot_explained_variance(curve_tsv=smk.input.curve, variants_tsv=smk.input.variants,
                            model=smk.wildcards.model, out_png=smk.output.plot)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
