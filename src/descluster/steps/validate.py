"""Steps of workflow/rules/validate.smk: every final clustering against the ground truth,
and the agreement between every pair of final clusterings."""

import logging

import numpy as np
import pandas as pd

from descluster import evaluate, plots
from descluster.attributes import load_attribute_codes
from descluster.files import write_table
from descluster.labels import clustering_id
from descluster.steps.kmeans import clustering_metadata

log = logging.getLogger(__name__)

VALIDATION_COLUMNS = ["model", "pca", "n_components", "k", "attribute", "n_labelled", "ari",
                      "nmi", "v_measure", "purity"]
# a clustering within this much purity (absolute) of the best is as good to label, and the
# one with the fewest clusters (the least naming) among those is the recommendation
RECOMMEND_TOLERANCE = 0.02
RECOMMENDED_COLUMNS = ["attribute", "clustering", "k", "purity", "ari", "best_clustering",
                       "best_k", "best_purity", "tolerance", "trade_off"]


def recommend_clusterings(validation, tolerance=RECOMMEND_TOLERANCE):
    """Which clustering to label, per attribute: effort (k, the names to give) against
    accuracy (purity: the share of images right when each cluster is named after its
    majority). The one function behind every recommendation the project makes (the
    table ``recommended.tsv``, the browser's first page, the docs).

    Among the final clusterings whose purity is within ``tolerance`` of the best, the one
    with the smallest k (ties: higher purity, then higher ARI, then name).

    Parameters
    ----------
    validation : DataFrame
        :data:`VALIDATION_COLUMNS` (``validation.tsv``).
    tolerance : float
        Purity (absolute, 0.02 = 2 points) given up for fewer clusters.

    Returns
    -------
    DataFrame
        :data:`RECOMMENDED_COLUMNS`, one row per attribute in order of first appearance:
        the recommended clustering (``model/variant/kK``) with its k, purity and ARI; the
        clustering of the best purity with its k and purity; the tolerance; and the
        trade-off in words.
    """
    rows = []
    named = validation.assign(clustering=[clustering_id(m, p, k) for m, p, k in zip(
        validation["model"], validation["pca"], validation["k"])])
    for attribute, group in named.groupby("attribute", sort=False):
        best = group.sort_values(["purity", "k", "ari", "clustering"],
                                 ascending=[False, True, False, True], kind="stable").iloc[0]
        close = group[group["purity"] >= best["purity"] - tolerance - 1e-12]
        pick = close.sort_values(["k", "purity", "ari", "clustering"],
                                 ascending=[True, False, False, True], kind="stable").iloc[0]
        if pick["clustering"] == best["clustering"]:
            trade = (f"the best purity ({best['purity']:.1%}) with {int(pick['k'])} clusters to "
                     f"name; no clustering within {tolerance:.0%} of it has fewer")
        else:
            trade = (f"{int(pick['k'])} clusters to name for {pick['purity']:.1%} purity; the "
                     f"best, {best['clustering']}, reaches {best['purity']:.1%} with "
                     f"{int(best['k'])} ({best['k'] / pick['k']:.1f}x the naming for "
                     f"{best['purity'] - pick['purity']:+.1%})")
        rows.append({"attribute": attribute, "clustering": pick["clustering"],
                     "k": int(pick["k"]), "purity": pick["purity"], "ari": pick["ari"],
                     "best_clustering": best["clustering"], "best_k": int(best["k"]),
                     "best_purity": best["purity"], "tolerance": tolerance,
                     "trade_off": trade})
    return pd.DataFrame(rows, columns=RECOMMENDED_COLUMNS)


def validate_clusterings(*, assignment_parquets, attribute_codes, out_validation, out_ranking,
                         out_recommended):
    """Score every final clustering against every ground-truth attribute; rank models by
    ARI (``model_ranking.tsv``: how well each model's clusters match each attribute); and
    recommend the clustering to label per attribute (:func:`recommend_clusterings`)."""
    codes, _ = load_attribute_codes(attribute_codes)
    if not codes:
        # outlier marks alone are ground truth too: they measure the outlier scores
        log.info("validate: no attribute to validate (the ground truth has no column besides "
                 "'outlier' with two or more known values); the tables are left empty")
    rows = []
    for path in assignment_parquets:
        meta = clustering_metadata(path)
        clusters = pd.read_parquet(path, columns=["cluster"])["cluster"].to_numpy()
        for scores in evaluate.validate_clustering(clusters, codes):
            rows.append({**meta, **scores})
    validation = pd.DataFrame(rows, columns=VALIDATION_COLUMNS)
    write_table(validation, out_validation)
    write_table(evaluate.rank_models(validation), out_ranking)
    write_table(recommend_clusterings(validation), out_recommended)


def compare_clusterings(*, assignment_parquets, out_tsv, out_plot):
    """Adjusted Rand index between every pair of final clusterings; table and heatmap."""
    names, models, clusters = [], [], []
    for path in assignment_parquets:
        meta = clustering_metadata(path)
        names.append(clustering_id(meta["model"], meta["pca"], meta["k"]))
        models.append(meta["model"])
        clusters.append(pd.read_parquet(path, columns=["cluster"])["cluster"].to_numpy())
    ari = np.eye(len(names))
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            ari[i, j] = ari[j, i] = evaluate.adjusted_rand_index(
                evaluate.contingency_table(clusters[i], clusters[j]))
            rows.append({"clustering_a": names[i], "clustering_b": names[j],
                         "same_model": models[i] == models[j],
                         "ari": ari[i, j]})
    write_table(pd.DataFrame(rows, columns=["clustering_a", "clustering_b", "same_model", "ari"]),
                out_tsv)
    plots.plot_agreement(ari, names, out_plot)
