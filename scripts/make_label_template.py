"""Rule make_label_template: a YAML label template for one clustering."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.make_label_template(smk.input.sizes, smk.wildcards.model, smk.wildcards.pca,
                              int(smk.wildcards.k), smk.output.template)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
