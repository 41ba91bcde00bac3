"""Rule build_site: the offline HTML browser of the results."""
from descluster import steps
from descluster.step import run_step


def main(smk):
    models = [path.rsplit("/", 1)[1].removesuffix(".tsv") for path in smk.input.digests]
    steps.build_site(
        models=models,
        clusterings=smk.params.clusterings,
        digests=dict(zip(models, smk.input.digests)),
        figures={"pca": dict(zip(models, smk.input.pca_plots)),
                 "kscan": dict(zip(models, smk.input.kscan_plots)),
                 "agreement": smk.input.agreement},
        outlier_files={"summary": smk.input.outlier_summary, "scores": smk.input.outliers,
                       "sheet": smk.input.outlier_sheet},
        optional_tables=smk.params.optional,
        out_index=smk.output.index,
        out_pages=smk.output.pages,
        out_outliers=smk.output.outliers,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
