"""Rule ingest_attributes: the ground-truth files aligned with the images."""
from descluster.runner import run_step
from descluster.steps.ingest import ingest_attributes


def main(smk):
    ingest_attributes(
        files=[(path, smk.params.format) for path in smk.input.files],
        images_parquet=smk.input.images,
        veriwild_columns=smk.params.veriwild_columns,
        out_parquet=smk.output.attributes,
        out_codes=smk.output.codes,
        out_matches=smk.output.matches,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
