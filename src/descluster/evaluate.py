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
    table = pd.crosstab(np.asarray(labels), np.asarray(truth))
    return float(table.max(axis=1).sum() / table.to_numpy().sum())


def agreement_scores(truth, labels):
    """ari, nmi, v_measure and purity of one clustering against one attribute."""
    return {
        "ari": float(adjusted_rand_score(truth, labels)),
        "nmi": float(normalized_mutual_info_score(truth, labels)),
        "v_measure": float(v_measure_score(truth, labels)),
        "purity": purity(truth, labels),
    }


def validate_clustering(assignments, attributes):
    """Scores of one clustering against every attribute.

    Parameters
    ----------
    assignments : DataFrame
        Columns ``paths`` (normalised) and ``cluster``.
    attributes : DataFrame
        Column ``paths`` (normalised) and one string column per attribute; empty
        strings are missing values, and those rows are left out for that attribute.

    Returns
    -------
    list of dict
        One per attribute: attribute, n_labelled, ari, nmi, v_measure, purity.
    """
    merged = assignments[["paths", "cluster"]].merge(attributes, on="paths", how="inner")
    rows = []
    for attribute in attributes.columns.drop("paths"):
        known = merged[merged[attribute] != ""]
        if known[attribute].nunique() < 2:
            continue
        rows.append({"attribute": attribute, "n_labelled": len(known),
                     **agreement_scores(known[attribute], known["cluster"])})
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
