"""Outlier scores per image from clusterings and nearest neighbours, combined across models."""

import numpy as np

_MAD_TO_SIGMA = 1.4826
# A tiny or outlier-labelled cluster adds this much to a score: it ranks above any
# distance-based score short of an extreme one.
MEMBERSHIP_BONUS = 10.0


def robust_z(values, groups=None):
    """(value - median) / (1.4826 MAD), within each group when ``groups`` is given.

    Parameters
    ----------
    values : ndarray of shape (n,)
    groups : ndarray of shape (n,) of int, optional

    Returns
    -------
    ndarray of shape (n,), float64
        A group with zero spread divides by the mean absolute deviation instead, and
        by 1 if that is zero too.
    """
    values = np.asarray(values, dtype=np.float64)
    if groups is None:
        groups = np.zeros(len(values), dtype=np.int64)
    z = np.empty_like(values)
    for group in np.unique(groups):
        members = groups == group
        v = values[members]
        median = np.median(v)
        spread = _MAD_TO_SIGMA * np.median(np.abs(v - median))
        if spread == 0:
            spread = np.mean(np.abs(v - median)) or 1.0
        z[members] = (v - median) / spread
    return z


def knn_distance(X, n_neighbours, reference_sample, seed):
    """Distance of every row to its n-th nearest neighbour among a fixed-seed reference sample.

    Parameters
    ----------
    X : ndarray of shape (n, p), float32
    n_neighbours : int
    reference_sample : int
        Rows the neighbours are searched in (all rows if n <= reference_sample); exact
        search against that sample, so the cost is n x reference_sample distances.

    Returns
    -------
    ndarray of shape (n,), float32
        A row of the reference sample is not its own neighbour.
    """
    from sklearn.neighbors import NearestNeighbors

    from descluster.clustering import sample_rows

    rows = sample_rows(len(X), reference_sample, seed)
    index = NearestNeighbors(n_neighbors=n_neighbours + 1).fit(np.asarray(X[rows]))
    distances, _ = index.kneighbors(np.asarray(X))
    # a row of the reference sample finds itself first: take one neighbour further
    in_reference = np.zeros(len(X), dtype=bool)
    in_reference[rows] = True
    column = np.where(in_reference, n_neighbours, n_neighbours - 1)
    return distances[np.arange(len(X)), column].astype(np.float32)


def tiny_clusters(sizes, tiny_fraction):
    """Clusters whose size is below ``tiny_fraction`` x the average cluster size.

    Parameters
    ----------
    sizes : ndarray of shape (k,), int

    Returns
    -------
    ndarray of shape (k,), bool
    """
    sizes = np.asarray(sizes)
    return sizes < tiny_fraction * sizes.sum() / len(sizes)


def distance_score(centroid_distance, labels, knn):
    """The label-independent part of an image's outlier score.

    ``max(robust z of the distance to its centroid within its cluster, robust z of its
    k-th neighbour distance)``.

    Parameters
    ----------
    centroid_distance : ndarray of shape (n,)
    labels : ndarray of shape (n,), int
    knn : ndarray of shape (n,)

    Returns
    -------
    ndarray of shape (n,), float64
    """
    return np.maximum(robust_z(centroid_distance, labels), robust_z(knn))


def model_score(z, suspicious):
    """One model-variant's outlier score: ``z + MEMBERSHIP_BONUS`` for images of suspicious
    (tiny or outlier-labelled) clusters.

    Parameters
    ----------
    z : ndarray of shape (n,)
        From :func:`distance_score`.
    suspicious : ndarray of shape (n,), bool
    """
    return z + MEMBERSHIP_BONUS * suspicious


def flag_top(scores, rate):
    """Boolean mask of the ``ceil(rate x n)`` highest scores (ties broken by position)."""
    n_flag = int(np.ceil(rate * len(scores)))
    flags = np.zeros(len(scores), dtype=bool)
    flags[np.argsort(-scores, kind="stable")[:n_flag]] = True
    return flags


def combine(scores, rate):
    """Combine model-variant scores: images flagged by more models rank first.

    Parameters
    ----------
    scores : ndarray of shape (n, m)
        One column per model-variant.

    Returns
    -------
    n_flagging : ndarray of shape (n,), int
        How many columns flag the image at ``rate``.
    combined : ndarray of shape (n,), float64
        ``n_flagging`` plus the mean percentile rank of the image over the columns
        (in [0, 1)), so the count decides and the ranks break ties.
    """
    n, m = scores.shape
    n_flagging = np.zeros(n, dtype=np.int64)
    percentile = np.zeros(n)
    for column in range(m):
        n_flagging += flag_top(scores[:, column], rate)
        percentile += np.argsort(np.argsort(scores[:, column], kind="stable"), kind="stable") / n
    return n_flagging, n_flagging + percentile / m


def precision_recall(flags, truth):
    """Precision and recall of boolean flags against boolean truth (NaN when undefined)."""
    flags, truth = np.asarray(flags, bool), np.asarray(truth, bool)
    hits = np.sum(flags & truth)
    precision = hits / flags.sum() if flags.sum() else float("nan")
    recall = hits / truth.sum() if truth.sum() else float("nan")
    return float(precision), float(recall)
