"""Rule plot_kscan: every validity index against k for one model."""
from descluster.runner import run_step
from descluster.steps.kscan import plot_kscan


def main(smk):
    plot_kscan(scan_tsv=smk.input.scan, suggested_tsv=smk.input.suggested,
               model=smk.wildcards.model, out_png=smk.output.plot, final_ks=smk.params.final_ks)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
