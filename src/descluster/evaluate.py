"""External validation of clusterings against ground-truth attributes."""

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score


def purity(truth, labels):
    """Share of rows whose cluster's most common true class is their own class.

    Parameters
    ----------
    truth : array-like of shape (n,)
    labels : array-like of shape (n,)
    """
    from sklearn.metrics.cluster import contingency_matrix

    table = contingency_matrix(truth, labels, sparse=True)
    return float(table.max(axis=0).sum() / table.sum())


def agreement_scores(truth, labels):
    """ari, nmi, v_measure and purity of one clustering against one attribute."""
    return {
        "ari": float(adjusted_rand_score(truth, labels)),
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "v_measure": float(v_measure_score(truth, labels)),
        "purity": purity(truth, labels),
    }


def encode_attributes(paths, attributes):
    """Ground-truth attributes as integer codes aligned with the images' row order.

    Parameters
    ----------
    paths : sequence of str, length n
        Normalised image paths in row order (as in every assignments file).
    attributes : DataFrame
        Column ``paths`` (normalised) and one string column per attribute; empty
        strings, and images the file does not list, are missing values.

    Returns
    -------
    dict of str -> ndarray of shape (n,), int64
        Per attribute with at least two known values: the class code of each row,
        -1 where unknown.
    """
    aligned = pd.DataFrame({"paths": paths}).merge(attributes, on="paths", how="left")
    codes = {}
    for attribute in attributes.columns.drop("paths"):
        values = aligned[attribute].fillna("")
        known = values != ""
        if values[known].nunique() < 2:
            continue
        code, _ = pd.factorize(values.where(known))
        codes[attribute] = code.astype(np.int64)
    return codes


def validate_clustering(labels, attribute_codes):
    """Scores of one clustering against every encoded attribute.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
        Cluster of each row.
    attribute_codes : dict of str -> ndarray of shape (n,)
        From :func:`encode_attributes`; rows with code -1 are left out.

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
