"""KMeans (k-means++ and Lloyd), assignment of all rows, and cluster-validity scores.

Written on numpy's BLAS rather than scikit-learn because the k-scan runs one short
process per k and importing scikit-learn costs about 1 s of each (measured; it pulls in
scipy.stats and pandas). The algorithms are scikit-learn's (greedy k-means++ with
2 + ln k trials, Lloyd until the centroid shift is below ``tol`` times the mean feature
variance, best of ``n_init`` restarts by inertia); tests check them against it.
"""

import logging
from typing import NamedTuple

import numpy as np

from descluster.errors import InputError

log = logging.getLogger(__name__)

_CHUNK_ROWS = 65536


def sample_rows(n_rows, n_sample, seed):
    """Sorted indices of a fixed-seed sample without replacement; all rows if n_sample is 0 or >= n_rows."""
    if n_sample == 0 or n_sample >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=n_sample, replace=False))


def scan_fit_rows(k, rows_per_cluster, min_rows):
    """Rows a k-scan KMeans at ``k`` is fitted on: ``rows_per_cluster * k``, at least
    ``min_rows``; 0 = all."""
    if rows_per_cluster == 0:
        return 0
    return max(min_rows, rows_per_cluster * k)


class KMeansFit(NamedTuple):
    """The kept run of :func:`fit_kmeans`."""

    centroids: np.ndarray  # (k, p) float32
    inertia: float  # sum of squared distances of the fitted rows to their centroids
    n_iter: int  # Lloyd iterations of that run
    converged: bool  # False when it stopped at max_iter
    start: str  # 'k-means++' or 'given' (a start from ``init``)
    empty_clusters: tuple  # clusters no fitted row is nearest to (fewer distinct rows than k)


def fit_kmeans(X, k, seed, n_init, max_iter, fit_sample=0, tol=1e-4, init=()):
    """Fit KMeans on all rows or a fixed-seed sample of them; keep the best of its runs.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    k : int
    seed : int
        Seeds the sample and the k-means++ draws.
    n_init : int
        Runs, each followed by Lloyd iterations: one from each start of ``init``, the
        rest (at least none) from k-means++ seedings.
    max_iter : int
        Lloyd iterations at most per restart.
    fit_sample : int
        Rows to fit on; 0 = all.
    tol : float
        Stop when the squared centroid shift falls below ``tol`` x the mean feature variance.
    init : sequence of ndarray of shape (k, p)
        Given starts (e.g. the k-scan's best centroids). Each is a candidate as it is
        and as the start of Lloyd iterations, so the result is never worse than it.

    Returns
    -------
    KMeansFit
        The run with the lowest inertia on the fitted rows (inertia from
        :func:`assign`'s distances, as every table reports it).
    """
    n_rows = X.shape[0]
    if k >= n_rows:
        raise InputError(f"k = {k} must be below the number of rows ({n_rows})")
    rows = sample_rows(n_rows, fit_sample, seed)
    fitted = np.ascontiguousarray(X[rows] if len(rows) < n_rows else X, dtype=np.float32)
    row_norms = _row_norms(fitted)
    shift_tol = tol * float(np.var(fitted, axis=0).mean())
    rng = np.random.default_rng([seed, 1])  # a stream apart from the sample's
    candidates = []
    for _ in range(max(n_init - len(init), 0)):
        start = kmeans_plusplus(fitted, k, rng, row_norms)
        candidates.append((*lloyd(fitted, start, max_iter, shift_tol), "k-means++"))
    for start in init:
        start = np.asarray(start, dtype=np.float32)
        candidates.append((start, 0, True, "given"))
        candidates.append((*lloyd(fitted, start, max_iter, shift_tol), "given"))
    best = None
    for centroids, n_iter, converged, origin in candidates:
        labels, distances = assign(fitted, centroids)
        fit = KMeansFit(centroids, _sum_of_squares(distances), n_iter, converged, origin,
                        tuple(np.flatnonzero(np.bincount(labels, minlength=k) == 0).tolist()))
        if best is None or fit.inertia < best.inertia:
            best = fit
    return best


def warn_about_fit(fit, what, max_iter):
    """Log what a user should know of a :class:`KMeansFit` named ``what``: no convergence
    within ``max_iter``, empty clusters."""
    if not fit.converged:
        log.warning("kmeans: %s stopped at max_iter = %d without converging; raise "
                    "clustering.max_iter for a tighter fit", what, max_iter)
    if fit.empty_clusters:
        log.warning("kmeans: %s: cluster(s) %s are empty: the data has fewer distinct rows "
                    "than k; lower k", what, " ".join(map(str, fit.empty_clusters)))


def inertia(X, centroids):
    """Sum of squared distances of the rows of X (n, p) to their nearest centroid, as a float."""
    return _sum_of_squares(assign(X, centroids)[1])


def _sum_of_squares(distances):
    return float(np.sum(distances.astype(np.float64) ** 2))


def kmeans_plusplus(X, k, rng, row_norms):
    """Greedy k-means++ seeding: each new centroid is the best of 2 + ln k draws.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32, C-contiguous
    rng : numpy Generator
    row_norms : ndarray of shape (n,), float32
        Squared norm of each row.

    Returns
    -------
    ndarray of shape (k, p), float32
    """
    n_rows = X.shape[0]
    n_trials = 2 + int(np.log(k))
    centroids = np.empty((k, X.shape[1]), dtype=np.float32)
    centroids[0] = X[rng.integers(n_rows)]
    closest = _squared_distances(X, centroids[:1], row_norms)[:, 0]
    for c in range(1, k):
        cumulative = np.cumsum(closest, dtype=np.float64)
        if cumulative[-1] > 0:
            draws = np.searchsorted(cumulative, rng.random(n_trials) * cumulative[-1])
            candidates = np.minimum(draws, n_rows - 1)
        else:  # every row sits on a centroid already: any row will do
            candidates = rng.integers(n_rows, size=n_trials)
        trial = np.minimum(_squared_distances(X, X[candidates], row_norms), closest[:, None])
        best = int(np.argmin(trial.sum(axis=0, dtype=np.float64)))
        closest = trial[:, best]
        centroids[c] = X[candidates[best]]
    return centroids


def lloyd(X, centroids, max_iter, tol):
    """Lloyd iterations from ``centroids`` until they move less than ``tol`` or labels stop changing.

    An empty cluster takes the row farthest from its centroid, which leaves its old
    cluster, as in scikit-learn; nothing moves when every row sits on its centroid.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32, C-contiguous
    centroids : ndarray of shape (k, p), float32
    tol : float
        Absolute bound on the summed squared centroid shift.

    Returns
    -------
    centroids : ndarray of shape (k, p), float32
    n_iter : int
        Iterations run.
    converged : bool
        False when ``max_iter`` iterations ran without converging.
    """
    k = centroids.shape[0]
    previous = None
    for n_iter in range(1, max_iter + 1):
        # assignment and cluster sums in one pass over X
        labels = np.empty(X.shape[0], dtype=np.int64)
        squared = np.empty(X.shape[0], dtype=np.float32)
        sums = np.zeros((k, X.shape[1]), dtype=np.float64)
        for start, chunk in _chunks(X):
            labels[start:start + len(chunk)], squared[start:start + len(chunk)] = (
                _nearest_in_chunk(chunk, centroids))
            sums += _one_hot_sums(chunk, labels[start:start + len(chunk)], k)
        if previous is not None and np.array_equal(labels, previous):
            return centroids, n_iter, True
        counts = np.bincount(labels, minlength=k)
        _relocate_empty_clusters(X, labels, squared, sums, counts)
        updated = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        # a cluster left empty (more clusters than distinct rows) keeps its centroid
        updated[counts == 0] = centroids[counts == 0]
        shift = float(((updated - centroids.astype(np.float64)) ** 2).sum())
        centroids, previous = updated, labels
        if shift <= tol:
            return centroids, n_iter, True
    return centroids, max_iter, False


def _relocate_empty_clusters(X, labels, squared, sums, counts):
    """Give each empty cluster one of the rows farthest from their centroids, in place.

    The row leaves its old cluster (its sum and count), as scikit-learn's
    ``_relocate_empty_clusters_dense`` does, with the same choice of rows.
    """
    empty = np.flatnonzero(counts == 0)
    if not len(empty) or squared.max() == 0:
        return
    farthest = np.argpartition(squared, -len(empty))[:-len(empty) - 1:-1]
    for cluster, row in zip(empty, farthest):
        old = labels[row]
        sums[old] -= X[row]
        counts[old] -= 1
        sums[cluster], counts[cluster] = X[row], 1


def _squared_distances(A, B, a_norms):
    """(m, l) squared Euclidean distances between rows of A (m, p) and B (l, p), never negative.

    Computed as |a|^2 - 2 a.b + |b|^2 in A's dtype (float32 for data: BLAS speed, and
    float64 copies of the (m, l) matrix doubled the time); ``a_norms`` is
    :func:`_row_norms` of A.
    """
    squared = A @ B.T
    squared *= -2.0
    squared += a_norms[:, None]
    squared += _row_norms(B)[None, :]
    return np.maximum(squared, 0.0, out=squared)


def _row_norms(X):
    """(n,) squared norm of each row of X (n, p), in X's dtype."""
    return np.einsum("ij,ij->i", X, X)


def _chunks(X):
    """(start, chunk) over the rows of X in blocks of ``_CHUNK_ROWS``, each a float32 array."""
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        yield start, np.asarray(X[start:start + _CHUNK_ROWS], dtype=np.float32)


def _nearest_in_chunk(chunk, centroids):
    """Label (m,) int64 and squared distance (m,) float32 of each row's nearest centroid."""
    squared = _squared_distances(chunk, centroids, _row_norms(chunk))
    labels = np.argmin(squared, axis=1)
    return labels, squared[np.arange(len(chunk)), labels]


def _one_hot_sums(chunk, chunk_labels, k):
    """(k, p) sum of the rows of ``chunk`` per label, as a one-hot product (BLAS speed)."""
    one_hot = np.zeros((len(chunk), k), dtype=np.float32)
    one_hot[np.arange(len(chunk)), chunk_labels] = 1.0
    return one_hot.T @ chunk


def _cluster_sums(X, labels, k):
    """(k, p) float64 sum of the rows of each cluster, in chunks."""
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    for start, chunk in _chunks(X):
        sums += _one_hot_sums(chunk, labels[start:start + len(chunk)], k)
    return sums


def assign(X, centroids):
    """Nearest centroid of every row.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32 (may be a read-only memory map)
    centroids : ndarray of shape (k, p), float32

    Returns
    -------
    labels : ndarray of shape (n,), int32
    distances : ndarray of shape (n,), float32
        Euclidean distance of each row to its own centroid, computed directly
        (not from the expanded dot-product form, which loses precision).
    """
    labels = np.empty(X.shape[0], dtype=np.int32)
    distances = np.empty(X.shape[0], dtype=np.float32)
    for start, chunk in _chunks(X):
        chunk_labels, _ = _nearest_in_chunk(chunk, centroids)
        labels[start:start + len(chunk)] = chunk_labels
        distances[start:start + len(chunk)] = np.sqrt(_row_norms(chunk - centroids[chunk_labels]))
    return labels, distances


def cluster_sizes(labels, distances, k):
    """Per cluster: size, share of all rows, mean and 90th-percentile distance to the centroid.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
    distances : ndarray of shape (n,), float32
        From :func:`assign`.
    k : int

    Returns
    -------
    DataFrame of k rows
        ``cluster`` (0..k-1), ``size``, ``share``, ``mean_distance``, ``p90_distance``
        (float64; NaN for an empty cluster): the columns of ``sizes.tsv``.
    """
    import pandas as pd  # not at the top: the k-scan jobs import this module, and need no pandas

    frame = pd.DataFrame({"cluster": labels, "distance": distances.astype(np.float64)})
    grouped = frame.groupby("cluster")["distance"]
    sizes = pd.DataFrame({"cluster": np.arange(k)})
    sizes["size"] = np.bincount(labels, minlength=k)
    sizes["share"] = sizes["size"] / len(labels)
    sizes["mean_distance"] = sizes["cluster"].map(grouped.mean())
    sizes["p90_distance"] = sizes["cluster"].map(grouped.quantile(0.9))
    return sizes


def validity_scores(X, labels, distances, seed, silhouette_sample):
    """Cluster-validity indices of one clustering, with scikit-learn's definitions.

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
    inertia = _sum_of_squares(distances)
    present, labels = np.unique(labels, return_inverse=True)
    if present.size < 2:
        nan = float("nan")
        return {"inertia": inertia, "calinski_harabasz": nan, "davies_bouldin": nan, "silhouette": nan}
    calinski_harabasz, davies_bouldin = _calinski_harabasz_davies_bouldin(X, labels, present.size)
    rows = sample_rows(len(labels), silhouette_sample, seed)
    return {
        "inertia": inertia,
        "calinski_harabasz": calinski_harabasz,
        "davies_bouldin": davies_bouldin,
        "silhouette": silhouette(np.asarray(X[rows]), labels[rows]),
    }


def _calinski_harabasz_davies_bouldin(X, labels, k):
    """Both indices from two chunked passes over X (labels in 0..k-1, every cluster non-empty).

    scikit-learn's functions copy each cluster out of X in turn, which took 0.6 s per
    k-scan job at 416,314 x 150; these are the same formulas, in float32 row by row
    (as scikit-learn's) and float64 over rows.
    """
    n_rows = X.shape[0]
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    means = _cluster_sums(X, labels, k) / counts[:, None]
    means32 = means.astype(np.float32)
    within = np.zeros(k)
    spread = np.zeros(k)
    for start, chunk in _chunks(X):
        chunk_labels = labels[start:start + len(chunk)]
        squared = _row_norms(chunk - means32[chunk_labels])
        within += np.bincount(chunk_labels, weights=squared, minlength=k)
        spread += np.bincount(chunk_labels, weights=np.sqrt(squared), minlength=k)
    overall = (counts @ means) / n_rows
    between = float(counts @ ((means - overall) ** 2).sum(axis=1))
    total_within = float(within.sum())
    calinski_harabasz = (1.0 if total_within == 0
                         else between * (n_rows - k) / (total_within * (k - 1)))
    spread /= counts
    centroid_distances = np.sqrt(_squared_distances(means, means, _row_norms(means)))
    np.fill_diagonal(centroid_distances, 0.0)  # exact zeros, not rounding residue
    if np.allclose(spread, 0) or np.allclose(centroid_distances, 0):
        return float(calinski_harabasz), 0.0
    centroid_distances[centroid_distances == 0] = np.inf
    davies_bouldin = np.max((spread[:, None] + spread[None, :]) / centroid_distances, axis=1).mean()
    return float(calinski_harabasz), float(davies_bouldin)


def silhouette(X, labels):
    """Mean silhouette coefficient (Euclidean), scikit-learn's definition; NaN for one cluster.

    Parameters
    ----------
    X : ndarray of shape (m, p); m is a sample, as the cost is m x m
    labels : ndarray of shape (m,), int

    Returns
    -------
    float
    """
    present, labels = np.unique(labels, return_inverse=True)
    k = present.size
    if k < 2:
        return float("nan")
    X = np.ascontiguousarray(X, dtype=np.float32)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    one_hot = np.zeros((len(X), k), dtype=np.float32)
    one_hot[np.arange(len(X)), labels] = 1.0
    scores = np.empty(len(X))
    for start in range(0, len(X), 1024):
        block = X[start:start + 1024]
        distances = np.sqrt(_squared_distances(block, X, _row_norms(block)))
        distances[np.arange(len(block)), np.arange(start, start + len(block))] = 0.0
        cluster_sums = (distances @ one_hot).astype(np.float64)
        own = labels[start:start + 1024]
        rows = np.arange(len(block))
        own_count = counts[own] - 1
        within = np.divide(cluster_sums[rows, own], own_count,
                           out=np.zeros(len(block)), where=own_count > 0)
        cluster_sums /= counts[None, :]
        cluster_sums[rows, own] = np.inf
        nearest = cluster_sums.min(axis=1)
        larger = np.maximum(within, nearest)
        score = np.divide(nearest - within, larger, out=np.zeros(len(block)), where=larger > 0)
        scores[start:start + len(block)] = np.where(own_count > 0, score, 0.0)
    return float(scores.mean())


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
            "note": _edge_note(by_db["k"].iloc[0] if len(by_db) else None, group["k"]),
        })
    return pd.DataFrame(rows)


EDGE_NOTE = "optimum at the edge: widen k_range"


def _edge_note(k, scanned):
    """:data:`EDGE_NOTE` when k is the largest scanned k, or the smallest one above 2."""
    if k is None:
        return ""
    at_edge = k == scanned.max() or (k == scanned.min() and k > 2)
    return EDGE_NOTE if at_edge else ""


def _k_at_max(group, column):
    valid = group.dropna(subset=[column])
    return int(valid.loc[valid[column].idxmax(), "k"]) if len(valid) else None
