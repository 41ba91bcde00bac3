"""Rule combine_outliers: scores per model-variant with labelled clusters, combined and flagged."""
from descluster.runner import run_step
from descluster.steps.outliers import combine_outliers


def main(smk):
    combine_outliers(
        inputs=[{**item, "scores": path}
                for item, path in zip(smk.params.clusterings, smk.input.scores)],
        label_entries=[{**entry, "file": path}
                       for entry, path in zip(smk.params.label_settings, smk.input.label_files)],
        images_parquet=smk.input.images,
        attributes_parquet=smk.input.attributes[0] if smk.input.attributes else None,
        images_root=smk.params.root,
        rate=smk.params.rate,
        seed=smk.params.seed,
        out_scores=smk.output.scores,
        out_sheet=smk.output.sheet,
        out_summary=smk.output.summary,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
