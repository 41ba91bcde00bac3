"""Rules collect_kscan and collect_suggested_k: concatenate per-model tables."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.concat_tables(smk.input.tables, smk.output.table)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
