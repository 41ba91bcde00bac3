"""Rule summarize_model: one model's digest (variants, suggested k, final clusterings)."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.summarize_model(smk.input.variants, smk.input.suggested, smk.input.sizes,
                          smk.params.final_clusterings, smk.wildcards.model, smk.output.digest)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
