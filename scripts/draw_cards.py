"""Rule draw_cards: a card and a contact sheet per cluster of one clustering."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    steps.draw_cards(smk.input.assignments, smk.input.centroids, smk.input.sizes,
                     smk.params.root, smk.params.seed, smk.output.cards, smk.output.sheets)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
