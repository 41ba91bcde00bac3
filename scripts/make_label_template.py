"""Rule make_label_template: a YAML label template for one clustering."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.make_label_template(smk.input.sizes, smk.wildcards.model, smk.wildcards.pca,
                              int(smk.wildcards.k), smk.params.label_attributes,
                              smk.output.template,
                              smk.input.attributes[0] if smk.input.attributes else None)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
