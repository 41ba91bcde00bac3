"""Steps of workflow/rules/kmeans.smk: the final KMeans clusterings and each model's digest.

:func:`cluster_kmeans` writes ``assignments.parquet`` with the clustering's model, variant,
n_components and k in its schema metadata; :func:`clustering_metadata` reads them back
(for the validate and labels steps).
"""

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from descluster import clustering
from descluster.files import atomic_output, save_npy_atomic, write_rows, write_table

log = logging.getLogger(__name__)

FIT_COLUMNS = ["model", "pca", "k", "inertia", "n_iter", "converged", "start", "kscan_inertia"]


def cluster_kmeans(*, reduced_npy, images_parquet, model, variant, k, seed, n_init, max_iter,
                   scan_n_init, scan_rows, out_assignments, out_centroids, out_sizes, out_fit,
                   scan_centroids=None):
    """A final KMeans clustering on all rows.

    ``n_init`` runs of Lloyd on all rows, the best by inertia kept: when the k-scan
    covered this k, one starts from its centroids (``scan_centroids``), which are also a
    candidate as they are, so the final inertia is never above the k-scan's; the others
    from fits as the k-scan's (:func:`descluster.clustering.scan_kmeans`: ``scan_n_init``
    k-means++ restarts on a sample of ``scan_rows`` rows, 0 = all) with the seeds
    ``seed + 1``, ``seed + 2``, ...: a fraction of the cost of seeding on all rows, and
    they converge in a few iterations there.

    Outputs: ``assignments.parquet`` (paths, cluster int32, distance float32; schema
    metadata model, pca (the variant's name), n_components, k), ``centroids.npy``
    (k, n_components) float32, ``sizes.tsv`` (:func:`descluster.clustering.cluster_sizes`)
    and ``fit.tsv`` (:data:`FIT_COLUMNS`).
    """
    X = np.load(reduced_npy, mmap_mode="r")
    starts = [np.load(scan_centroids)] if scan_centroids else []
    starts += [clustering.scan_kmeans(X, k, seed + run, scan_n_init, max_iter, scan_rows).centroids
               for run in range(1, n_init - len(starts) + 1)]
    fit = clustering.fit_kmeans(X, k, seed, len(starts), max_iter, fit_sample=0, init=starts)
    clustering.warn_about_fit(fit, f"{model} {variant} k={k}", max_iter)
    labels, distances = fit.labels, fit.distances  # the fit was on all rows: no further pass
    paths = pq.read_table(images_parquet, columns=["paths"]).column("paths")
    metadata = {"model": model, "pca": variant, "n_components": str(X.shape[1]), "k": str(k)}
    table = pa.table({"paths": paths, "cluster": labels, "distance": distances})
    table = table.replace_schema_metadata({f"descluster.{key}": value for key, value in metadata.items()})
    with atomic_output(out_assignments) as tmp:
        pq.write_table(table, tmp)
    save_npy_atomic(out_centroids, fit.centroids)
    sizes = clustering.cluster_sizes(labels, distances, k)
    write_table(sizes, out_sizes)
    scan_inertia = fit.init_inertias[0] if scan_centroids else None
    start = "k-scan centroids" if scan_centroids and fit.start == "init 0" else "k-means++"
    write_rows([{"model": model, "pca": variant, "k": k, "inertia": fit.inertia,
                 "n_iter": fit.n_iter, "converged": fit.converged, "start": start,
                 "kscan_inertia": scan_inertia}], FIT_COLUMNS, out_fit)
    log.info("kmeans: %s %s k=%d, inertia %.6g (k-scan %s) from %s, %d iterations, cluster "
             "sizes %d..%d", model, variant, k, fit.inertia,
             "-" if scan_inertia is None else f"{scan_inertia:.6g}", start, fit.n_iter,
             sizes["size"].min(), sizes["size"].max())


def clustering_metadata(assignments_parquet):
    """model, pca (the variant's name), n_components and k of an assignments file, from its
    schema metadata (written by :func:`cluster_kmeans`)."""
    metadata = pq.read_schema(assignments_parquet).metadata
    values = {key.decode().removeprefix("descluster."): value.decode()
              for key, value in metadata.items() if key.startswith(b"descluster.")}
    return {"model": values["model"], "pca": values["pca"],
            "n_components": int(values["n_components"]), "k": int(values["k"])}


def summarize_model(*, variants_tsv, suggested_tsv, sizes_tsvs, final_clusterings, model, out_tsv):
    """One table per model: each variant's components and variance, suggested k, final clusterings.

    Parameters
    ----------
    sizes_tsvs : list of path
        ``sizes.tsv`` of each final clustering, aligned with ``final_clusterings``.
    final_clusterings : list of (str, int)
        (variant name, k) of each final clustering.
    """
    variants = pd.read_csv(variants_tsv, sep="\t")
    suggested = pd.read_csv(suggested_tsv, sep="\t")[["pca", "suggested_k"]]
    digest = variants[["pca", "n_components", "explained_variance"]].merge(suggested, on="pca")
    finals = pd.DataFrame([
        {"pca": variant, "k": k, "smallest_cluster": int(sizes["size"].min()),
         "largest_cluster": int(sizes["size"].max())}
        for (variant, k), sizes in zip(final_clusterings,
                                       (pd.read_csv(p, sep="\t") for p in sizes_tsvs))
    ], columns=["pca", "k", "smallest_cluster", "largest_cluster"])
    digest = digest.merge(finals, on="pca", how="left")
    digest.insert(0, "model", model)
    write_table(digest, out_tsv)
