"""Rule scan_k: KMeans at one k and its validity indices (one row of the k-scan)."""
from descluster.runner import run_step
from descluster.steps.kscan import scan_k


def main(smk):
    scan_k(
        reduced_npy=smk.input.reduced,
        model=smk.wildcards.model,
        variant=smk.wildcards.variant,
        k=int(smk.wildcards.k),
        seed=smk.params.seed,
        n_init=smk.params.n_init,
        max_iter=smk.params.max_iter,
        rows_per_cluster=smk.params.rows_per_cluster,
        min_rows=smk.params.min_rows,
        silhouette_sample=smk.params.silhouette_sample,
        out_tsv=smk.output.row,
        out_centroids=smk.output.centroids,
        attribute_codes=smk.input.attributes[0] if smk.input.attributes else None,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
