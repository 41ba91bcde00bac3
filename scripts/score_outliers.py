"""Rule score_outliers: one clustering's label-independent outlier scores."""
from descluster.runner import run_step
from descluster.steps.outliers import score_outliers


def main(smk):
    score_outliers(
        reduced_npy=smk.input.reduced,
        residual_npy=smk.input.residual,
        fit_path=smk.input.fit,
        assignments_parquet=smk.input.assignments,
        sizes_tsv=smk.input.sizes,
        n_neighbours=smk.params.neighbours,
        reference_sample=smk.params.reference_sample,
        tiny_fraction=smk.params.tiny_cluster,
        seed=smk.params.seed,
        out_scores=smk.output.scores,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
