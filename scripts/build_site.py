"""Rule build_site: the offline HTML browser of the results."""
from descluster.runner import run_step
from descluster.steps.site import build_site


def main(smk):
    models = [path.rsplit("/", 1)[1].removesuffix(".tsv") for path in smk.input.digests]
    build_site(
        models=models,
        clusterings=[
            {"name": name, "cards": cards, "sheets": sheets, "assignments": assignments,
             "template": template}
            for name, cards, sheets, assignments, template in zip(
                smk.params.clusterings, smk.input.cards, smk.input.sheets, smk.input.assignments,
                smk.input.templates)],
        digests=dict(zip(models, smk.input.digests)),
        figures={"pca": dict(zip(models, smk.input.pca_plots)),
                 "kscan": dict(zip(models, smk.input.kscan_plots)),
                 "agreement": smk.input.agreement},
        outlier_files={"summary": smk.input.outlier_summary, "scores": smk.input.outliers,
                       "sheet": smk.input.outlier_sheet},
        optional_tables={**dict(zip(smk.params.tables, smk.input.tables)),
                         "recommended": (smk.input.recommended or [None])[0]},
        ground_truth=smk.input.ground_truth[0] if smk.input.ground_truth else None,
        propagated=smk.input.labels[0] if smk.input.labels else None,
        images_root=smk.params.root,
        paths_script=smk.input.paths_script,
        seed=smk.params.seed,
        label_entries=[{**entry, "file": file}
                       for entry, file in zip(smk.params.label_entries, smk.input.label_files)],
        label_fields=smk.params.label_fields,
        allowed=smk.params.allowed,
        out_index=smk.output.index,
        out_pages=smk.output.pages,
        out_outliers=smk.output.outliers,
        out_reviews=smk.output.reviews,
        out_files=smk.output.files,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
