"""Rule propagate_labels: cluster and image labels from the label files to every image."""
from descluster.runner import run_step
from descluster.steps.labels import propagate_labels


def main(smk):
    files = zip(smk.input.files, smk.input.assignments, smk.input.centroids, smk.input.reduced)
    entries = [{**settings, "file": file, "assignments": assignments, "centroids": centroids,
                "reduced": reduced}
               for settings, (file, assignments, centroids, reduced) in zip(smk.params.entries, files)]
    propagate_labels(
        entries=entries,
        images_parquet=smk.input.images,
        outliers_parquet=smk.input.outliers,
        allowed=smk.params.allowed,
        out_labels=smk.output.labels,
        out_summary=smk.output.summary,
        out_accuracy=smk.output.accuracy,
        attributes_parquet=smk.input.attributes[0] if smk.input.attributes else None,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
