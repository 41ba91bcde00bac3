"""Rule plot_kscan: every validity index against k for one model."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.plot_kscan(smk.input.scan, smk.input.suggested, smk.wildcards.model, smk.output.plot,
                     smk.params.final_ks)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
