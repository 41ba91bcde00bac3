"""Steps of workflow/rules/labels.smk: cluster cards with contact sheets, label templates,
and the labels of the label files propagated to every image."""

import logging

import numpy as np
import pandas as pd

from descluster import gallery, labels
from descluster.files import atomic_directory, atomic_output, write_table, write_text_atomic
from descluster.steps.kmeans import clustering_metadata

log = logging.getLogger(__name__)

CARD_COLUMNS = ["cluster", "size", "share", "mean_distance", "p90_distance", "nearest_clusters",
                "sheet", "placeholders"]


def draw_cards(*, assignments_parquet, centroids_npy, sizes_tsv, images_root, seed, out_cards,
               out_sheets):
    """A card per cluster: its statistics, nearest clusters and a contact sheet.

    Only the sampled images are read: 30 per cluster whatever the dataset size.
    Outputs: ``cards.tsv`` (:data:`CARD_COLUMNS`; ``nearest_clusters`` space-separated,
    ``sheet`` the file name in ``out_sheets``, ``placeholders`` how many tiles could not
    be read) and the folder ``out_sheets`` of ``cluster{c:03d}.jpg`` contact sheets.
    """
    meta = clustering_metadata(assignments_parquet)
    assignments = pd.read_parquet(assignments_parquet)
    cards = pd.read_csv(sizes_tsv, sep="\t")
    neighbours = gallery.nearest_clusters(np.load(centroids_npy))
    members = assignments.groupby("cluster")
    sheets, placeholders = [], []
    with atomic_directory(out_sheets) as staging:
        for cluster in cards["cluster"]:
            name = f"cluster{cluster:03d}.jpg"
            rows = {}
            if cluster in members.groups:
                group = members.get_group(cluster)
                picked = gallery.pick_members(group["distance"].to_numpy(), gallery.TILES_PER_ROW,
                                              seed + int(cluster))
                rows = {kind: group["paths"].iloc[picked[kind]].tolist() for kind in picked}
            title = (f"{meta['model']} {meta['pca']} k={meta['k']} - cluster {cluster} "
                     f"({cards.loc[cluster, 'size']} images)")
            sheet, missing = gallery.contact_sheet(rows, images_root, title)
            sheet.save(staging / name, quality=85)
            sheets.append(name)
            placeholders.append(missing)
    cards["nearest_clusters"] = [" ".join(map(str, row)) for row in neighbours]
    cards["sheet"] = sheets
    cards["placeholders"] = placeholders
    write_table(cards[CARD_COLUMNS], out_cards)
    if sum(placeholders):
        log.warning("cards: %d image(s) missing or unreadable under %s; placeholders shown",
                    sum(placeholders), images_root)


def make_label_template(*, sizes_tsv, model, variant, k, label_attributes, out_yaml):
    """The label template of one clustering (see :func:`descluster.labels.template`).

    Its fields are ``label_attributes`` (config; default type, view, colour), with or
    without ground truth: the fields are what a person names, while a ground-truth
    attribute is shown on the cards as a breakdown and measures the labels, and becomes a
    field only when listed.
    """
    write_text_atomic(out_yaml, labels.template(model, variant, k,
                                                pd.read_csv(sizes_tsv, sep="\t"),
                                                list(label_attributes)))


def _labelled_sources(entries, allowed):
    """Read every configured label file with its clustering, in config order."""
    sources = []
    for entry in entries:
        label_file = labels.read_label_file(entry["file"], entry["clustering"], entry["k"],
                                            entry.get("attributes"), allowed)
        sources.append({
            "clustering": entry["clustering"],
            "file": entry["file"],
            "label_file": label_file,
            "labels": pd.read_parquet(entry["assignments"], columns=["cluster"])["cluster"].to_numpy(),
            "centroids": np.load(entry["centroids"]),
            "reduced": np.load(entry["reduced"], mmap_mode="r"),
        })
    return sources


LABEL_SUMMARY_COLUMNS = ["attribute", "labelled", "coverage", "image_entries", "image_values",
                         "conflicts", "sources"]


def propagate_labels(*, entries, images_parquet, outliers_parquet, allowed, out_labels,
                     out_summary, out_accuracy, attributes_parquet=None):
    """Labels for every image from the labelled clusterings, with its outlier score.

    Parameters
    ----------
    entries : list of dict
        In config order: clustering, file, attributes (or None), k, assignments,
        centroids, reduced.
    allowed : dict of str -> list of str
        Config ``label_values``.

    Outputs: ``labels.parquet`` (``row``: the image's 0-based row in images.paths,
    ``paths``: its path as written there; per attribute its value, ``_source`` and
    ``_confidence``, none for an image marked bad; ``labelled_outlier``,
    ``outlier_score``, ``outlier_flag``), ``labels.tsv`` (:data:`LABEL_SUMMARY_COLUMNS`,
    see :func:`descluster.labels.propagate`) and ``label_accuracy.tsv`` (against the
    ground truth; no rows without it).
    """
    images = pd.read_parquet(images_parquet, columns=["row", "paths", "path_original"])
    sources = _labelled_sources(entries, allowed)
    columns, summary = labels.propagate(images["paths"].to_numpy(dtype=object), sources)
    scores = pd.read_parquet(outliers_parquet, columns=["combined_score", "flag"])
    # the paths as the user's paths file writes them (Windows form kept), and the row to
    # join on: the normalised form is the workflow's own
    frame = pd.DataFrame({"row": images["row"].to_numpy(dtype=np.int64),
                          "paths": images["path_original"], **columns,
                          "outlier_score": scores["combined_score"].to_numpy(),
                          "outlier_flag": scores["flag"].to_numpy()})
    with atomic_output(out_labels) as tmp:
        frame.to_parquet(tmp, index=False)
    write_table(pd.DataFrame(summary, columns=LABEL_SUMMARY_COLUMNS), out_summary)
    accuracy = []
    if attributes_parquet:
        accuracy = labels.label_accuracy(columns, pd.read_parquet(attributes_parquet))
    write_table(pd.DataFrame(accuracy, columns=["attribute", "band", "n_images", "share",
                                                "accuracy"]), out_accuracy)
    log.info("labels: %s", "; ".join(f"{s['attribute']} {s['coverage']:.1%}" for s in summary))
