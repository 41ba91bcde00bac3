"""Rule plot_labelling_effort: purity against k per attribute, for one model."""
from descluster.runner import run_step
from descluster.steps.kscan import plot_labelling_effort


def main(smk):
    plot_labelling_effort(effort_tsv=smk.input.effort, model=smk.wildcards.model,
                          out_png=smk.output.plot, final_ks=smk.params.final_ks)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
