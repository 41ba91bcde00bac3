"""Rule summarize_kscan: one model's k-scan table and suggested k per variant."""
from descluster.runner import run_step
from descluster.steps.kscan import summarize_kscan


def main(smk):
    summarize_kscan(row_tsvs=smk.input.rows, out_scan=smk.output.scan,
                    out_suggested=smk.output.suggested, out_effort=smk.output.effort)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
