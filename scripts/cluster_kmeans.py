"""Rule cluster_kmeans: a final KMeans clustering on all rows."""
from descluster.runner import run_step
from descluster.steps.kmeans import cluster_kmeans


def main(smk):
    cluster_kmeans(
        reduced_npy=smk.input.reduced,
        images_parquet=smk.input.images,
        model=smk.wildcards.model,
        variant=smk.wildcards.variant,
        k=int(smk.wildcards.k),
        seed=smk.params.seed,
        n_init=smk.params.n_init,
        max_iter=smk.params.max_iter,
        scan_n_init=smk.params.scan_n_init,
        scan_rows=smk.params.scan_rows,
        out_assignments=smk.output.assignments,
        out_centroids=smk.output.centroids,
        out_sizes=smk.output.sizes,
        out_fit=smk.output.fit,
        scan_centroids=smk.input.scan_centroids[0] if smk.input.scan_centroids else None,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
