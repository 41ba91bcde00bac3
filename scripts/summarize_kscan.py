"""Rule summarize_kscan: one model's k-scan table and suggested k per variant."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.summarize_kscan(smk.input.rows, smk.output.scan, smk.output.suggested,
                          smk.output.effort)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
