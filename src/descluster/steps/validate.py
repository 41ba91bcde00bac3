"""Steps of workflow/rules/validate.smk: every final clustering against the ground truth,
and the agreement between every pair of final clusterings."""

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from descluster import evaluate, plots
from descluster.attributes import load_attribute_codes
from descluster.errors import InputError
from descluster.files import write_table
from descluster.labels import clustering_id
from descluster.steps.kmeans import clustering_metadata

VALIDATION_COLUMNS = ["model", "pca", "n_components", "k", "attribute", "n_labelled", "ari",
                      "nmi", "v_measure", "purity"]


def validate_clusterings(*, assignment_parquets, attribute_codes, out_validation, out_ranking):
    """Score every final clustering against every ground-truth attribute; rank models."""
    codes, _ = load_attribute_codes(attribute_codes)
    if not codes:
        raise InputError("the ground truth has no attribute with two or more known values "
                         "for the clustered images (see results/ingest/attributes_match.tsv)")
    rows = []
    for path in assignment_parquets:
        meta = clustering_metadata(path)
        clusters = pd.read_parquet(path, columns=["cluster"])["cluster"].to_numpy()
        for scores in evaluate.validate_clustering(clusters, codes):
            rows.append({**meta, **scores})
    validation = pd.DataFrame(rows, columns=VALIDATION_COLUMNS)
    write_table(validation, out_validation)
    write_table(evaluate.rank_models(validation), out_ranking)


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
            ari[i, j] = ari[j, i] = adjusted_rand_score(clusters[i], clusters[j])
            rows.append({"clustering_a": names[i], "clustering_b": names[j],
                         "same_model": models[i] == models[j],
                         "ari": ari[i, j]})
    write_table(pd.DataFrame(rows, columns=["clustering_a", "clustering_b", "same_model", "ari"]),
                out_tsv)
    plots.plot_agreement(ari, names, out_plot)
