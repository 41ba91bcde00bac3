"""External validation of clusterings against ground-truth attributes.

scikit-learn and pandas are imported inside the functions that need them: purity is
computed in every k-scan job, a short process of its own.
"""

import numpy as np


def purity(truth, labels):
    """Share of rows whose cluster's most common true class is their own class.

    The share of images a person gets right by naming each cluster after its majority.

    Parameters
    ----------
    truth : array-like of shape (n,)
        True classes (any hashable values), no missing values.
    labels : array-like of shape (n,), int
        Cluster of each row.

    Returns
    -------
    float
    """
    return _table_purity(contingency_table(truth, labels))


def _table_purity(table):
    """Purity from a :func:`contingency_table` (classes x clusters)."""
    return float(table.max(axis=0).sum() / table.sum())


def _small_codes(values):
    """Non-negative integer codes of ``values`` (n,): the values themselves when they are
    integers in 0..n already (cluster labels, attribute codes: no sort needed), else
    their ranks among the distinct values."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and values.size and 0 <= values.min() and values.max() <= values.size:
        return values
    return np.unique(values, return_inverse=True)[1]


def contingency_table(truth, labels):
    """Counts of rows per (true class, cluster), classes and clusters that occur only.

    Parameters
    ----------
    truth, labels : array-like of shape (n,)
        Any hashable values; integer codes in 0..n are used as they are (no sort).

    Returns
    -------
    ndarray of shape (n_classes, n_clusters), int64
    """
    truth_codes, cluster_codes = _small_codes(truth), _small_codes(labels)
    if not truth_codes.size:
        return np.zeros((0, 0), dtype=np.int64)
    n_clusters = int(cluster_codes.max()) + 1
    table = np.bincount(truth_codes.ravel() * n_clusters + cluster_codes.ravel(),
                        minlength=(int(truth_codes.max()) + 1) * n_clusters)
    table = table.reshape(-1, n_clusters).astype(np.int64)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def adjusted_rand_index(table):
    """Adjusted Rand index from a :func:`contingency_table`, as scikit-learn's
    ``adjusted_rand_score`` computes it from the labels (its pair confusion matrix; 1.0
    when no pair is split differently)."""
    n = int(table.sum())
    same_both = int((table ** 2).sum()) - n
    same_truth = int((table.sum(axis=1) ** 2).sum()) - n - same_both
    same_cluster = int((table.sum(axis=0) ** 2).sum()) - n - same_both
    neither = n * n - n - same_both - same_truth - same_cluster
    if same_truth == 0 and same_cluster == 0:
        return 1.0
    return 2.0 * (same_both * neither - same_truth * same_cluster) / (
        (same_both + same_truth) * (same_truth + neither)
        + (same_both + same_cluster) * (same_cluster + neither))


def _entropy(counts):
    """Entropy (nats) of a distribution given by positive counts (n,)."""
    share = counts / counts.sum()
    return float(-np.sum(share * np.log(share))) if len(counts) > 1 else 0.0


def agreement_scores(truth, labels):
    """ari, nmi, v_measure and purity of one clustering against one attribute.

    One contingency table serves all four (scikit-learn's label-based functions sort the
    labels once per score: 84 scores over 416,314 rows took seconds); the mutual
    information is scikit-learn's, from that table. The values and their special cases are
    scikit-learn's ``adjusted_rand_score``, ``normalized_mutual_info_score`` (arithmetic
    mean) and ``v_measure_score``.
    """
    from sklearn.metrics import mutual_info_score

    table = contingency_table(truth, labels)
    n_classes, n_clusters = table.shape
    purity_share = _table_purity(table)
    if n_classes == n_clusters == 1:
        return {"ari": 1.0, "nmi": 1.0, "v_measure": 1.0, "purity": purity_share}
    mutual_info = float(mutual_info_score(None, None, contingency=table))
    h_truth, h_clusters = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    homogeneity = mutual_info / h_truth if h_truth else 1.0
    completeness = mutual_info / h_clusters if h_clusters else 1.0
    v_measure = (2 * homogeneity * completeness / (homogeneity + completeness)
                 if homogeneity + completeness else 0.0)
    nmi = mutual_info / ((h_truth + h_clusters) / 2) if mutual_info else 0.0
    return {"ari": adjusted_rand_index(table), "nmi": float(nmi), "v_measure": float(v_measure),
            "purity": purity_share}


def purity_by_attribute(labels, attribute_codes):
    """Purity of one clustering for every attribute, over the rows whose value is known.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
    attribute_codes : dict of str -> ndarray of shape (n,), int (-1 = unknown)

    Returns
    -------
    dict of str -> float
    """
    return {attribute: purity(codes[codes >= 0], labels[codes >= 0])
            for attribute, codes in attribute_codes.items()}


def validate_clustering(labels, attribute_codes):
    """Scores of one clustering against every encoded attribute.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
        Cluster of each row.
    attribute_codes : dict of str -> ndarray of shape (n,)
        From :func:`descluster.attributes.attribute_codes`; rows with code -1
        are left out.

    Returns
    -------
    list of dict
        One per attribute: attribute, n_labelled, ari, nmi, v_measure, purity.
    """
    rows = []
    for attribute, codes in attribute_codes.items():
        known = codes >= 0
        rows.append({"attribute": attribute, "n_labelled": int(known.sum()),
                     **agreement_scores(codes[known], labels[known])})
    return rows


def rank_models(validation):
    """Rank models per attribute by the best ARI any of their clusterings reached.

    Parameters
    ----------
    validation : DataFrame
        The validation table (model, pca, n_components, k, attribute, ari, ...).

    Returns
    -------
    DataFrame
        attribute, rank (1 = best), model, best_ari, pca, k, nmi of that clustering.
    """
    best = validation.loc[validation.groupby(["attribute", "model"])["ari"].idxmax()]
    best = best.sort_values(["attribute", "ari"], ascending=[True, False])
    best["rank"] = best.groupby("attribute").cumcount() + 1
    return best.rename(columns={"ari": "best_ari"})[
        ["attribute", "rank", "model", "best_ari", "pca", "k", "nmi"]
    ].reset_index(drop=True)
