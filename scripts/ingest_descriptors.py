"""Rule ingest_descriptors: load one descriptor file safely, check it, store it as float32 .npy."""
from descluster.runner import run_step
from descluster.steps.ingest import ingest_descriptors


def main(smk):
    ingest_descriptors(descriptor_path=smk.input.descriptors, images_parquet=smk.input.images,
                       out_npy=smk.output.descriptors)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
