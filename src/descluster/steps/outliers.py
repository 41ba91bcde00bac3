"""Steps of workflow/rules/outliers.smk: label-independent outlier scores per clustering
(the expensive part), then their combination with the clusters labelled outlier (cheap: a
label edit reruns only this)."""

import logging

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from descluster import gallery, labels, outliers, pca
from descluster.attributes import is_outlier_value
from descluster.files import atomic_output, write_table

log = logging.getLogger(__name__)


def score_outliers(*, reduced_npy, residual_npy, fit_path, assignments_parquet, sizes_tsv,
                   n_neighbours, reference_sample, tiny_fraction, seed, out_scores):
    """One clustering's label-independent outlier scores (the expensive part).

    Inputs: the variant's reduced matrix and each row's distance to its subspace (both
    from reduce_pca), the model's PCA fit (for the descriptors' width), the clustering's
    assignments and sizes.

    Output: ``scores.parquet`` with ``z`` (float64: :func:`descluster.outliers.outlier_score`,
    local outlier factors and the Gaussian distance in the PCA space plus the residual,
    larger is stranger), ``cluster`` (int32) and ``tiny_cluster`` (bool).
    """
    X = np.load(reduced_npy, mmap_mode="r")
    residual = np.load(residual_npy)
    n_features = len(pca.load_fit(fit_path).mean)
    cluster = pd.read_parquet(assignments_parquet, columns=["cluster"])["cluster"].to_numpy()
    tiny = outliers.tiny_clusters(pd.read_csv(sizes_tsv, sep="\t")["size"].to_numpy(),
                                  tiny_fraction)
    z = outliers.outlier_score(X, residual, n_features, n_neighbours, reference_sample, seed)
    frame = pd.DataFrame({"z": z, "cluster": cluster, "tiny_cluster": tiny[cluster]})
    with atomic_output(out_scores) as tmp:
        frame.to_parquet(tmp, index=False)
    log.info("outliers: %d of %d clusters tiny", tiny.sum(), len(tiny))


def combine_outliers(*, inputs, label_entries, images_parquet, attributes_parquet, images_root,
                     rate, seed, out_scores, out_sheet, out_summary):
    """Outlier scores per model-variant and combined, their flags, a sheet of the top ones.

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
    rate : float in (0, 1) or None
        Share of images flagged (``outliers.rate``); None: the robust tail cut of each
        score decides (:func:`descluster.outliers.tail_flags`).

    Outputs: ``outliers.parquet`` (``paths``, ``score_{model}_{variant}``: each variant's
    score plus the bonus of its suspicious clusters, ``n_models_flagging``,
    ``combined_score``: :func:`descluster.outliers.combine_variants`, ``flag``), the contact
    sheet, and ``outliers.tsv`` (:func:`_outlier_summary`).
    """
    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    labelled = {}
    for entry in label_entries:
        label_file = labels.read_label_file(entry["file"], entry["clustering"], entry["k"])
        labelled.setdefault(entry["clustering"], set()).update(label_file.outlier_clusters)
    scores, z_columns, suspicious_columns = {}, [], []
    for item in inputs:
        frame = pd.read_parquet(item["scores"])
        suspicious = frame["tiny_cluster"].to_numpy() | np.isin(
            frame["cluster"].to_numpy(), sorted(labelled.get(item["clustering"], ())))
        z_columns.append(frame["z"].to_numpy())
        suspicious_columns.append(suspicious)
        scores[f"score_{item['model']}_{item['variant']}"] = outliers.model_score(
            z_columns[-1], suspicious)
        log.info("outliers: %s, %d images in suspicious clusters", item["clustering"],
                 suspicious.sum())
    combined = outliers.combine_variants(np.column_stack(z_columns),
                                         np.column_stack(suspicious_columns))
    # each scope's flags and cut, once: the parquet, the log and outliers.tsv use them
    cuts = {"combined": _flags_and_threshold(combined, rate)}
    cuts.update({name.removeprefix("score_"): _flags_and_threshold(values, rate)
                 for name, values in scores.items()})
    flags, threshold = cuts["combined"]
    n_flagging = np.sum([cuts[name.removeprefix("score_")][0] for name in scores], axis=0)
    log.info("outliers: flagged %.1f %% (%s, threshold %.3g)", 100 * flags.mean(), _cut_rule(rate),
             threshold)
    frame = pd.DataFrame({"paths": paths, **scores, "n_models_flagging": n_flagging,
                          "combined_score": combined, "flag": flags})
    with atomic_output(out_scores) as tmp:
        frame.to_parquet(tmp, index=False)
    top = frame["paths"].iloc[np.argsort(-combined, kind="stable")[:30]].tolist()
    sheet, _ = gallery.contact_sheet({"1-10": top[:10], "11-20": top[10:20], "21-30": top[20:30]},
                                     images_root, f"top outliers of {len(paths)} images")
    with atomic_output(out_sheet) as tmp:
        sheet.save(tmp, quality=85)
    write_table(_outlier_summary(cuts, rate, attributes_parquet), out_summary)


def _flags_and_threshold(scores, rate):
    """(flags (n,) bool, threshold float) of one score (n,): :func:`descluster.outliers.tail_flags`
    and the cut it applies, :func:`descluster.outliers.tail_threshold`."""
    return outliers.tail_flags(scores, rate)[0], outliers.tail_threshold(scores, rate)


def _cut_rule(rate):
    """How flags are cut, in words: the configured rate, or the robust tail cut."""
    if rate is None:
        return f"robust z > {outliers.TAIL_CUT:g}"
    return f"rate {rate:g}"


def _outlier_summary(cuts, rate, attributes_parquet):
    """Flags, precision and recall per scope (combined and each model-variant) and outlier kind.

    ``cuts`` maps each scope to its (flags, threshold) (:func:`_flags_and_threshold`),
    ``rate`` is ``outliers.rate`` (None: the tail cut). Columns: ``scope, kind, n_true,
    n_flagged, rate`` (the share of images that scope flags), ``cut`` (:func:`_cut_rule`),
    ``threshold`` (the score the flags lie above: :func:`descluster.outliers.tail_threshold`),
    ``precision, recall``.
    """
    truth = is_outlier = None
    if attributes_parquet and "outlier" in pq.read_schema(attributes_parquet).names:
        kinds = pd.read_parquet(attributes_parquet, columns=["outlier"])["outlier"]
        is_outlier = is_outlier_value(kinds)
        truth = kinds.fillna("").astype(str).str.strip().str.lower()
    rows = []
    for scope, (flags, threshold) in cuts.items():
        cut = {"scope": scope, "kind": "all", "n_true": None, "n_flagged": int(flags.sum()),
               "rate": float(flags.mean()) if len(flags) else 0.0, "cut": _cut_rule(rate),
               "threshold": threshold}
        if truth is None:
            rows.append({**cut, "precision": None, "recall": None})
            continue
        precision, recall = outliers.precision_recall(flags, is_outlier)
        rows.append({**cut, "n_true": int(is_outlier.sum()), "precision": precision,
                     "recall": recall})
        for kind in sorted(set(truth[is_outlier])):
            _, recall = outliers.precision_recall(flags, (truth == kind).to_numpy())
            rows.append({**cut, "kind": kind, "n_true": int((truth == kind).sum()),
                         "precision": None, "recall": recall})
    return pd.DataFrame(rows, columns=["scope", "kind", "n_true", "n_flagged", "rate", "cut",
                                       "threshold", "precision", "recall"])
