"""Steps of workflow/rules/outliers.smk: label-independent outlier scores per clustering
(the expensive part), then their combination with the clusters labelled outlier (cheap: a
label edit reruns only this)."""

import logging

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from descluster import gallery, labels, outliers
from descluster.attributes import is_outlier_value
from descluster.files import atomic_output, write_table

log = logging.getLogger(__name__)


def score_outliers(*, reduced_npy, assignments_parquet, sizes_tsv, n_neighbours,
                   reference_sample, tiny_fraction, seed, out_scores):
    """One clustering's label-independent outlier scores (the expensive part).

    Output: ``scores.parquet`` with ``z`` (float64: the larger of the robust z of the
    distance to the centroid within the cluster and of the n-th neighbour distance),
    ``cluster`` (int32) and ``tiny_cluster`` (bool).
    """
    X = np.load(reduced_npy, mmap_mode="r")
    assignments = pd.read_parquet(assignments_parquet, columns=["cluster", "distance"])
    cluster = assignments["cluster"].to_numpy()
    tiny = outliers.tiny_clusters(pd.read_csv(sizes_tsv, sep="\t")["size"].to_numpy(),
                                  tiny_fraction)
    knn = outliers.knn_distance(X, n_neighbours, reference_sample, seed)
    z = outliers.distance_score(assignments["distance"].to_numpy(), cluster, knn)
    frame = pd.DataFrame({"z": z, "cluster": cluster, "tiny_cluster": tiny[cluster]})
    with atomic_output(out_scores) as tmp:
        frame.to_parquet(tmp, index=False)
    log.info("outliers: %d of %d clusters tiny", tiny.sum(), len(tiny))


def combine_outliers(*, inputs, label_entries, images_parquet, attributes_parquet, images_root,
                     rate, seed, out_scores, out_sheet, out_summary):
    """Outlier scores per model-variant and combined; flags at ``rate``; a sheet of the top ones.

    Cheap: a label edit reruns this, not :func:`score_outliers`.

    Parameters
    ----------
    inputs : list of dict
        One per (model, variant): model, variant (its name), clustering, scores (from
        :func:`score_outliers`).
    label_entries : list of dict
        Configured label files (as for :func:`descluster.steps.labels.propagate_labels`);
        clusters they mark ``outlier: true`` count as suspicious in the clusterings used here.
    attributes_parquet : path or None
        The aligned ground truth; with an ``outlier`` column (its kind, or a good image:
        :func:`descluster.attributes.is_outlier_value`), precision and recall are measured.
    """
    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    labelled = {}
    for entry in label_entries:
        label_file = labels.read_label_file(entry["file"], entry["clustering"], entry["k"])
        labelled.setdefault(entry["clustering"], set()).update(label_file.outlier_clusters)
    scores = {}
    for item in inputs:
        frame = pd.read_parquet(item["scores"])
        suspicious = frame["tiny_cluster"].to_numpy() | np.isin(
            frame["cluster"].to_numpy(), sorted(labelled.get(item["clustering"], ())))
        scores[f"score_{item['model']}_{item['variant']}"] = outliers.model_score(
            frame["z"].to_numpy(), suspicious)
        log.info("outliers: %s, %d images in suspicious clusters", item["clustering"],
                 suspicious.sum())
    matrix = np.column_stack(list(scores.values()))
    n_flagging, combined = outliers.combine(matrix, rate)
    flags = outliers.flag_top(combined, rate)
    frame = pd.DataFrame({"paths": paths, **scores, "n_models_flagging": n_flagging,
                          "combined_score": combined, "flag": flags})
    with atomic_output(out_scores) as tmp:
        frame.to_parquet(tmp, index=False)
    top = frame["paths"].iloc[np.argsort(-combined, kind="stable")[:30]].tolist()
    sheet, _ = gallery.contact_sheet({"1-10": top[:10], "11-20": top[10:20], "21-30": top[20:30]},
                                     images_root, f"top outliers of {len(paths)} images")
    with atomic_output(out_sheet) as tmp:
        sheet.save(tmp, quality=85)
    write_table(_outlier_summary(frame, scores, rate, attributes_parquet), out_summary)


def _outlier_summary(frame, scores, rate, attributes_parquet):
    """Flags, precision and recall per scope (combined and each model-variant) and outlier kind."""
    truth = is_outlier = None
    if attributes_parquet and "outlier" in pq.read_schema(attributes_parquet).names:
        kinds = pd.read_parquet(attributes_parquet, columns=["outlier"])["outlier"]
        is_outlier = is_outlier_value(kinds)
        truth = kinds.fillna("").astype(str).str.strip().str.lower()
    scopes = {"combined": frame["flag"].to_numpy()}
    scopes.update({name.removeprefix("score_"): outliers.flag_top(frame[name].to_numpy(), rate)
                   for name in scores})
    rows = []
    for scope, flags in scopes.items():
        if truth is None:
            rows.append({"scope": scope, "kind": "all", "n_true": None, "n_flagged": int(flags.sum()),
                         "precision": None, "recall": None})
            continue
        precision, recall = outliers.precision_recall(flags, is_outlier)
        rows.append({"scope": scope, "kind": "all", "n_true": int(is_outlier.sum()),
                     "n_flagged": int(flags.sum()), "precision": precision, "recall": recall})
        for kind in sorted(set(truth[is_outlier])):
            _, recall = outliers.precision_recall(flags, (truth == kind).to_numpy())
            rows.append({"scope": scope, "kind": kind, "n_true": int((truth == kind).sum()),
                         "n_flagged": int(flags.sum()), "precision": None, "recall": recall})
    return pd.DataFrame(rows, columns=["scope", "kind", "n_true", "n_flagged", "precision", "recall"])
