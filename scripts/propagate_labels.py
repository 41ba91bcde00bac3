"""Rule propagate_labels: cluster labels from the label files to every image."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.propagate_labels(smk.params.entries, smk.input.images, smk.output.labels,
                           smk.output.summary)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
