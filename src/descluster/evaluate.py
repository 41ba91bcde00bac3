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
    truth_codes, cluster_codes = _small_codes(truth), _small_codes(labels)
    n_classes = int(truth_codes.max()) + 1
    table = np.bincount(cluster_codes.ravel() * n_classes + truth_codes.ravel(),
                        minlength=(int(cluster_codes.max()) + 1) * n_classes)
    return float(table.reshape(-1, n_classes).max(axis=1).sum() / len(truth_codes))


def _small_codes(values):
    """Non-negative integer codes of ``values`` (n,): the values themselves when they are
    integers in 0..n already (cluster labels, attribute codes: no sort needed), else
    their ranks among the distinct values."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and values.size and 0 <= values.min() and values.max() <= values.size:
        return values
    return np.unique(values, return_inverse=True)[1]


def agreement_scores(truth, labels):
    """ari, nmi, v_measure and purity of one clustering against one attribute."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

    return {
        "ari": float(adjusted_rand_score(truth, labels)),
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "v_measure": float(v_measure_score(truth, labels)),
        "purity": purity(truth, labels),
    }


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
