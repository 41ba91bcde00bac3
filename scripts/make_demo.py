"""Rule make_demo: the embedded demo dataset (descriptor pickles, paths, attributes, thumbnails)."""
from descluster import demo
from descluster.runner import run_step
from descluster.steps.demo import make_demo


def main(smk):
    make_demo(
        descriptor_paths=dict(zip(demo.MODEL_DIMS, smk.output.descriptors)),
        paths_csv=smk.output.paths,
        vehicle_info_txt=smk.output.vehicle_info,
        attributes_csv=smk.output.attributes,
        images_dir=smk.output.images,
        n_images=smk.params.n_images,
        seed=smk.params.seed,
        thumbnails=smk.params.thumbnails,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
