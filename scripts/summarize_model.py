"""Rule summarize_model: one model's digest (variants, suggested k, final clusterings)."""
from descluster.runner import run_step
from descluster.steps.kmeans import summarize_model


def main(smk):
    summarize_model(
        variants_tsv=smk.input.variants,
        suggested_tsv=smk.input.suggested,
        sizes_tsvs=smk.input.sizes,
        final_clusterings=smk.params.final_clusterings,
        model=smk.wildcards.model,
        out_tsv=smk.output.digest,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
