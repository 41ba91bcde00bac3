"""Rule score_outliers: outlier scores per model-variant, combined and flagged."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    settings = smk.params.settings
    steps.score_outliers(
        inputs=smk.params.inputs,
        label_entries=smk.params.label_entries,
        images_parquet=smk.input.images,
        attributes_csv=smk.input.attributes or None,
        images_root=smk.params.root,
        rate=settings["rate"],
        n_neighbours=settings["neighbours"],
        reference_sample=settings["reference_sample"],
        tiny_fraction=settings["tiny_cluster"],
        seed=smk.params.seed,
        out_scores=smk.output.scores,
        out_sheet=smk.output.sheet,
        out_summary=smk.output.summary,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
