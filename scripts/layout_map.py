"""Rule layout_map: the 2-D layout of all images of one model-variant (label-independent)."""
from descluster import layout
from descluster.step import run_step


def main(smk):
    layout.layout_map(reduced_npy=smk.input.reduced, seed=smk.params.seed,
                      out_npy=smk.output.layout)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
