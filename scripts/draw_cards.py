"""Rule draw_cards: a card and a contact sheet per cluster of one clustering."""
from descluster.runner import run_step
from descluster.steps.labels import draw_cards


def main(smk):
    draw_cards(
        assignments_parquet=smk.input.assignments,
        centroids_npy=smk.input.centroids,
        sizes_tsv=smk.input.sizes,
        images_root=smk.params.root,
        seed=smk.params.seed,
        out_cards=smk.output.cards,
        out_sheets=smk.output.sheets,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
