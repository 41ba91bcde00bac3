"""Rule layout_map: the 2-D layout of all images of one model-variant (label-independent)."""
from descluster.runner import run_step
from descluster.steps.map import layout_map


def main(smk):
    layout_map(reduced_npy=smk.input.reduced, seed=smk.params.seed, out_npy=smk.output.layout)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
