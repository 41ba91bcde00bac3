"""Rules collect_kscan, collect_suggested_k, collect_labelling_effort: concatenate per-model tables."""
from descluster.runner import run_step
from descluster.steps.kscan import concat_tables


def main(smk):
    concat_tables(tsvs=smk.input.tables, out_tsv=smk.output.table)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
