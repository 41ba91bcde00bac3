"""Steps of workflow/rules/kscan.smk: one KMeans per (model, variant, k) with its validity
indices, then the tables and figures of the scan.

The k-scan runs hundreds of short jobs, each a new process: :func:`scan_k` needs numpy
only, so this module imports no pandas, pyarrow or matplotlib at its top. The table and
figure steps, one job per model, import them where they start.
"""

import logging

import numpy as np

from descluster import clustering, evaluate
from descluster.attributes import load_attribute_codes
from descluster.files import save_npy_atomic, write_rows, write_table

log = logging.getLogger(__name__)

KSCAN_COLUMNS = ["model", "pca", "n_components", "k", "inertia", "calinski_harabasz",
                 "davies_bouldin", "silhouette", "n_iter"]
PURITY_PREFIX = "purity_"
# what the k-scan's lowest Davies-Bouldin is worth as advice (suggested_k.tsv's ``advice``):
# with ground truth the one advice is the recommendation (validate.recommend_clusterings,
# measured against the truth), and the index's minimum is only an index value
ADVICE = {True: "none: an index value; with ground truth the clustering to label is the "
                "recommendation (results/summary/recommended.tsv)",
          False: "the k-scan's suggestion, by the shape of the clusters alone (no ground truth "
                 "measures which clustering names an attribute best)"}


def scan_k(*, reduced_npy, model, variant, k, seed, n_init, max_iter, rows_per_cluster, min_rows,
           silhouette_sample, out_tsv, out_centroids, attribute_codes=None):
    """One k of the k-scan: fit KMeans on a sample, assign all rows, score; one TSV row.

    The sample holds ``rows_per_cluster * k`` rows, at least ``min_rows`` (0 = all rows);
    the ``n_init`` restarts are screened on a quarter of it
    (:func:`descluster.clustering.scan_kmeans`). The reduced matrix is memory-mapped:
    no job reads it whole into memory.
    Outputs: the row (:data:`KSCAN_COLUMNS`, the variant's name in ``pca``, then
    ``purity_{attribute}`` per ground-truth attribute when ``attribute_codes``, the .npz of
    ingest_attributes, is given) and the centroids, (k, p) float32, from which the final
    clustering at this k starts one of its runs.
    """
    X = np.load(reduced_npy, mmap_mode="r")
    fit_rows = clustering.scan_fit_rows(k, rows_per_cluster, min_rows)
    fit = clustering.scan_kmeans(X, k, seed, n_init, max_iter, fit_rows)
    clustering.warn_about_fit(fit, f"{model} {variant} k={k} (k-scan)", max_iter)
    # the cluster sums of the indices come from the same pass as the labels
    labels, distances, sums = clustering.assign(X, fit.centroids, with_sums=True)
    scores = clustering.validity_scores(X, labels, distances, seed, silhouette_sample, sums=sums)
    row = {"model": model, "pca": variant, "n_components": X.shape[1], "k": k, **scores,
           "n_iter": fit.n_iter}
    columns = list(KSCAN_COLUMNS)
    if attribute_codes:
        codes, _ = load_attribute_codes(attribute_codes)
        for attribute, value in evaluate.purity_by_attribute(labels, codes).items():
            row[PURITY_PREFIX + attribute] = value
            columns.append(PURITY_PREFIX + attribute)
    save_npy_atomic(out_centroids, fit.centroids)
    write_rows([row], columns, out_tsv)
    log.info("kscan: %s %s k=%d %s", model, variant, k,
             ", ".join(f"{key} {value:.4g}" for key, value in scores.items()))


def summarize_kscan(*, row_tsvs, out_scan, out_suggested, out_effort):
    """Gather k-scan rows (sorted by model, pca, k), the suggested k per variant and the
    labelling effort (purity per scanned k and attribute: ``model, pca, k, attribute,
    purity``; no rows without ground truth).

    The suggested k table (:func:`descluster.clustering.suggest_k`) gets an ``advice``
    column (:data:`ADVICE`): with ground truth (purity columns in the rows) the lowest
    Davies-Bouldin is an index value, not advice; without, it is the k-scan's suggestion.
    """
    import pandas as pd  # here, not at the top: see the module's docstring

    scan = pd.concat([pd.read_csv(p, sep="\t") for p in row_tsvs], ignore_index=True)
    scan = scan.sort_values(["model", "pca", "k"], kind="stable").reset_index(drop=True)
    write_table(scan[KSCAN_COLUMNS], out_scan)
    purity = [c for c in scan.columns if c.startswith(PURITY_PREFIX)]
    write_table(clustering.suggest_k(scan).assign(advice=ADVICE[bool(purity)]), out_suggested)
    effort = scan.melt(id_vars=["model", "pca", "k"], value_vars=purity, var_name="attribute",
                       value_name="purity")
    effort["attribute"] = effort["attribute"].str.removeprefix(PURITY_PREFIX)
    effort = effort.sort_values(["model", "pca", "attribute", "k"], kind="stable")
    write_table(effort[["model", "pca", "k", "attribute", "purity"]], out_effort)


def concat_tables(*, tsvs, out_tsv):
    """Concatenate TSV tables with the same columns, in the order given."""
    import pandas as pd  # here, not at the top: see the module's docstring

    write_table(pd.concat([pd.read_csv(p, sep="\t") for p in tsvs], ignore_index=True), out_tsv)


def plot_kscan(*, scan_tsv, suggested_tsv, model, out_png, final_ks=()):
    """The k-scan figure of one model, the configured final k values marked."""
    import pandas as pd  # here, not at the top: see the module's docstring

    from descluster import plots

    plots.plot_kscan(pd.read_csv(scan_tsv, sep="\t"),
                     pd.read_csv(suggested_tsv, sep="\t", keep_default_na=False), model,
                     out_png, final_ks)


def plot_labelling_effort(*, effort_tsv, model, out_png, final_ks=()):
    """Purity against k per attribute and variant: what naming k clusters buys."""
    import pandas as pd  # here, not at the top: see the module's docstring

    from descluster import plots

    plots.plot_labelling_effort(pd.read_csv(effort_tsv, sep="\t"), model, out_png, final_ks)
