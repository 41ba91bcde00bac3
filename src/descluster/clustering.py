"""KMeans fits, assignment of all rows, and cluster-validity scores."""

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from descluster.errors import InputError

_ASSIGN_ROWS = 65536


def sample_rows(n_rows, n_sample, seed):
    """Sorted indices of a fixed-seed sample without replacement; all rows if n_sample is 0 or >= n_rows."""
    if n_sample == 0 or n_sample >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=n_sample, replace=False))


def fit_kmeans(X, k, seed, n_init, max_iter, fit_sample=0):
    """Fit KMeans (k-means++ init, Lloyd) on all rows or a fixed-seed sample of them.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    k : int
    seed : int
        random_state of the sample and of KMeans.
    fit_sample : int
        Rows to fit on; 0 = all.

    Returns
    -------
    ndarray of shape (k, p), float32
        The centroids.
    """
    n_rows = X.shape[0]
    if k >= n_rows:
        raise InputError(f"k = {k} must be below the number of rows ({n_rows})")
    rows = sample_rows(n_rows, fit_sample, seed)
    sample = X[rows] if len(rows) < n_rows else np.asarray(X)
    model = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed)
    model.fit(sample)
    return model.cluster_centers_.astype(np.float32)


def assign(X, centroids):
    """Nearest centroid of every row, in chunks.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32
    centroids : ndarray of shape (k, p), float32

    Returns
    -------
    labels : ndarray of shape (n,), int32
    distances : ndarray of shape (n,), float32
        Euclidean distance of each row to its own centroid, computed directly
        (not from the expanded dot-product form, which loses precision).
    """
    n_rows = X.shape[0]
    labels = np.empty(n_rows, dtype=np.int32)
    distances = np.empty(n_rows, dtype=np.float32)
    centroid_norms = (centroids.astype(np.float64) ** 2).sum(axis=1)
    for start in range(0, n_rows, _ASSIGN_ROWS):
        chunk = np.asarray(X[start:start + _ASSIGN_ROWS], dtype=np.float32)
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 does not change the argmin
        scores = centroid_norms[None, :] - 2.0 * (chunk @ centroids.T).astype(np.float64)
        chunk_labels = np.argmin(scores, axis=1)
        labels[start:start + len(chunk)] = chunk_labels
        distances[start:start + len(chunk)] = np.linalg.norm(chunk - centroids[chunk_labels], axis=1)
    return labels, distances


def validity_scores(X, labels, distances, seed, silhouette_sample):
    """Cluster-validity indices of one clustering.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32
    labels : ndarray of shape (n,), int
    distances : ndarray of shape (n,), float32
        Distance of each row to its centroid (from :func:`assign`).
    silhouette_sample : int
        Rows the silhouette is computed on (fixed-seed sample); NaN if the sample
        holds a single cluster.

    Returns
    -------
    dict
        inertia (sum of squared distances), calinski_harabasz, davies_bouldin, silhouette.
        The two indices are NaN when fewer than two clusters are non-empty.
    """
    X = np.asarray(X)
    inertia = float(np.sum(distances.astype(np.float64) ** 2))
    if np.unique(labels).size < 2:
        nan = float("nan")
        return {"inertia": inertia, "calinski_harabasz": nan, "davies_bouldin": nan, "silhouette": nan}
    rows = sample_rows(len(labels), silhouette_sample, seed)
    sample_labels = labels[rows]
    silhouette = (float(silhouette_score(X[rows], sample_labels))
                  if np.unique(sample_labels).size >= 2 else float("nan"))
    return {
        "inertia": inertia,
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "silhouette": silhouette,
    }


SUGGESTION_RULE = ("lowest Davies-Bouldin index over the scanned k "
                   "(ties: higher Calinski-Harabasz)")


def suggest_k(scan):
    """Suggested k per (model, pca) from a k-scan table.

    Parameters
    ----------
    scan : DataFrame
        Columns model, pca, n_components, k, inertia, calinski_harabasz,
        davies_bouldin, silhouette.

    Returns
    -------
    DataFrame
        One row per (model, pca): n_components, suggested_k (by
        :data:`SUGGESTION_RULE`), best_k_calinski_harabasz, best_k_silhouette, rule.
    """
    import pandas as pd

    rows = []
    for (model, pca), group in scan.groupby(["model", "pca"], sort=False):
        valid = group.dropna(subset=["davies_bouldin"])
        by_db = valid.sort_values(["davies_bouldin", "calinski_harabasz"], ascending=[True, False])
        rows.append({
            "model": model,
            "pca": pca,
            "n_components": int(group["n_components"].iloc[0]),
            "suggested_k": int(by_db["k"].iloc[0]) if len(by_db) else None,
            "best_k_calinski_harabasz": _k_at_max(group, "calinski_harabasz"),
            "best_k_silhouette": _k_at_max(group, "silhouette"),
            "rule": SUGGESTION_RULE,
        })
    return pd.DataFrame(rows)


def _k_at_max(group, column):
    valid = group.dropna(subset=[column])
    return int(valid.loc[valid[column].idxmax(), "k"]) if len(valid) else None
