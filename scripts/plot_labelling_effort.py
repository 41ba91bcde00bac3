"""Rule plot_labelling_effort: purity against k per attribute, for one model."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.plot_labelling_effort(smk.input.effort, smk.wildcards.model, smk.output.plot,
                                smk.params.final_ks)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
