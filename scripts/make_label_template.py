"""Rule make_label_template: a YAML label template for one clustering."""
from descluster.runner import run_step
from descluster.steps.labels import make_label_template


def main(smk):
    make_label_template(
        sizes_tsv=smk.input.sizes,
        model=smk.wildcards.model,
        variant=smk.wildcards.variant,
        k=int(smk.wildcards.k),
        label_attributes=smk.params.label_attributes,
        out_yaml=smk.output.template,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
