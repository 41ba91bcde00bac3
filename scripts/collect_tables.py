"""Rules collect_kscan, collect_suggested_k, collect_labelling_effort: concatenate per-model tables."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.concat_tables(smk.input.tables, smk.output.table)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
