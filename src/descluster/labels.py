"""Cluster labels: templates to fill in, label files read by their one grammar
(:mod:`descluster.labelfile`) and checked against the run, propagation to images."""

import numpy as np

from descluster import labelfile
from descluster.errors import InputError
from descluster.names import grammar
from descluster.yamlfile import shorten

# keys with a meaning of their own in a cluster entry and in an image entry
CLUSTER_KEYS = ("cluster", "size", "note", "mixed", "outlier")
IMAGE_KEYS = ("path", "note", "outlier", "not_cluster")
# names no attribute may have (descluster.names: the keys above, the columns the workflow
# writes and their suffixes)
_WORKFLOW_COLUMNS = tuple(grammar()["name"]["reserved"])
_WORKFLOW_SUFFIXES = tuple(grammar()["name"]["reservedSuffixes"])
TOP_KEYS = ("clustering", "clusters", "images")


def clustering_id(model, variant, k):
    """'osnet/pca150/k30' (model, PCA variant name, k): how a clustering is named in label
    files, the config, the tables and the pages; the one place this id is built."""
    return f"{model}/{variant}/k{k}"


def parse_clustering_id(name):
    """'osnet/pca150/k30' -> ('osnet', 'pca150', 30): (model, variant, k)."""
    model, variant, k = name.split("/")
    return model, variant, int(k.removeprefix("k"))


def template(model, variant, k, sizes, attributes):
    """Text of the label template of one clustering (:func:`descluster.labelfile.serialize`:
    the pages write the same format): every cluster with empty values.

    Parameters
    ----------
    sizes : DataFrame
        ``sizes.tsv`` of the clustering (cluster, size, ...).
    attributes : list of str
        The attribute fields of every cluster, in order.
    """
    clusters = [{"id": int(cluster), "size": int(size), "values": {}, "note": "",
                 "mixed": False, "outlier": False}
                for cluster, size in sizes[["cluster", "size"]].itertuples(index=False)]
    return labelfile.serialize({"clustering": clustering_id(model, variant, k),
                                "attributes": list(attributes), "clusters": clusters,
                                "images": []})


class LabelFile:
    """A checked label file (see :func:`read_label_file`).

    Attributes
    ----------
    values : dict of str -> dict of int -> str
        attribute -> cluster -> non-empty value (mixed clusters give none).
    outlier_clusters : set of int
        Clusters marked ``outlier: true``.
    images : list of dict
        Per-image entries in file order: ``path`` (normalised), ``line``, ``outlier`` and
        ``not_cluster`` (bool), ``values`` (attribute -> non-empty value).
    """

    def __init__(self, values, outlier_clusters, images):
        self.values, self.outlier_clusters, self.images = values, outlier_clusters, images


def _allowed_value(path, line, attribute, text, allowed):
    if text and allowed and attribute in allowed and text not in allowed[attribute]:
        raise InputError(f"{path}, line {line}: {attribute} {shorten(text)} is not one of the "
                         f"allowed values (label_values.{attribute}): "
                         f"{shorten(', '.join(allowed[attribute]), 300)[1:-1]}")
    return text


def read_label_file(path, expected_clustering, k, attributes=None, allowed=None):
    """Read and check one label file.

    Parameters
    ----------
    path : str or Path
    expected_clustering : str
        The clustering the config lists this file for (``model/variant/kK``).
    k : int
        Its number of clusters.
    attributes : list of str, optional
        Take only these attributes from the file.
    allowed : dict of str -> list of str, optional
        Per attribute, the values it may take (config ``label_values``).

    Returns
    -------
    LabelFile

    Raises
    ------
    InputError
        ``<path>, line N: <problem>``: outside the grammar (:func:`descluster.labelfile.parse`),
        for another clustering, a cluster beyond k, a value outside ``label_values``, or
        a cluster marked mixed that names a value.
    """
    doc = labelfile.parse(labelfile.read_text(path), path, expected=expected_clustering)
    wanted = (lambda name: name in attributes) if attributes else (lambda name: True)
    values, outlier_clusters = {}, set()
    for cluster in doc["clusters"]:
        if cluster["id"] >= k:
            raise InputError(f"{path}, line {cluster['line']}: cluster {cluster['id']} does not "
                             f"exist in {expected_clustering} (clusters 0 to {k - 1})")
        if cluster["outlier"]:
            outlier_clusters.add(cluster["id"])
        for attribute, text in cluster["values"].items():
            line = cluster["lines"][attribute]
            _allowed_value(path, line, attribute, text, allowed)
            if text and cluster["mixed"]:
                raise InputError(
                    f"{path}, line {line}: cluster {cluster['id']} is marked mixed (it cannot be "
                    f"named as a whole) but names {attribute} {shorten(text)}; clear one of them")
            if text and wanted(attribute):
                values.setdefault(attribute, {})[cluster["id"]] = text
    images = []
    for image in doc["images"]:
        own = {attribute: _allowed_value(path, image["lines"][attribute], attribute, text, allowed)
               for attribute, text in image["values"].items()}
        images.append({"path": image["path"], "line": image["line"], "outlier": image["outlier"],
                       "not_cluster": image["not_cluster"],
                       "values": {a: t for a, t in own.items() if wanted(a)}})
    return LabelFile(values, outlier_clusters, images)


def _labelled_bad(n_images, sources):
    """Images marked bad, (n,) bool: by an image entry (``outlier: true``), or as members of
    a cluster marked ``outlier: true`` unless that file's entry for the image takes it out
    of the cluster (``not_cluster: true``, or values of its own: a good image misclustered)."""
    bad = np.zeros(n_images, dtype=bool)
    for s in sources:
        in_bad_cluster = np.isin(s["labels"], sorted(s["label_file"].outlier_clusters))
        for image in s["label_file"].images:
            bad[image["row"]] |= image["outlier"]
            if image["not_cluster"] or image["values"]:
                in_bad_cluster[image["row"]] = False
        bad |= in_bad_cluster
    return bad


def propagate(paths, sources):
    """Labels of every image from labelled clusterings.

    Precedence: an image entry beats a cluster entry (of any file); between two files
    the earlier wins. ``not_cluster`` keeps its cluster's values of that file from the image.
    Images marked bad (:func:`_labelled_bad`) get no attribute value: a bad picture shows
    no vehicle whose type or colour could be named.

    Parameters
    ----------
    paths : ndarray of shape (n,), str
        Normalised image paths in row order.
    sources : list of dict
        In config order, each with ``clustering`` (name), ``file`` (its path), ``labels``
        (n,) int, ``centroids`` (k, p) float32, ``reduced`` (n, p) float32 (the space of
        the clustering) and ``label_file`` (:class:`LabelFile`).

    Returns
    -------
    columns : dict of str -> ndarray
        For each attribute: ``{a}`` (object, '' = unknown), ``{a}_source`` (object: the
        clustering, with " (image)" for an image entry) and ``{a}_confidence`` (float,
        NaN where unknown, 1 for an image entry, else
        :func:`descluster.confidence.label_confidence`); then ``labelled_outlier`` (bool).
    summary : list of dict
        attribute, labelled (images with a value), coverage (share), image_entries (the
        entries under ``images:`` of the files the attribute is taken from: own values,
        bad images, "not this cluster"), image_values (those giving it a value of their
        own), conflicts (images given different values by two entries), sources (in order
        of precedence).
    """
    from descluster.confidence import label_confidence

    n_images = len(paths)
    row_of = {path: row for row, path in enumerate(paths)}
    for s in sources:
        for image in s["label_file"].images:
            if image["path"] not in row_of:
                raise InputError(f"{s['file']}, line {image['line']}: image "
                                 f"{shorten(image['path'])} is not among the images "
                                 "(images.paths)")
            image["row"] = row_of[image["path"]]
    bad = _labelled_bad(n_images, sources)
    columns, summary = {}, []
    attributes = list(dict.fromkeys(
        a for s in sources for a in (*s["label_file"].values,
                                     *(a for i in s["label_file"].images for a in i["values"]))))
    for attribute in attributes:
        value = np.full(n_images, "", dtype=object)
        source = np.full(n_images, "", dtype=object)
        conf = np.full(n_images, np.nan)
        conflicts = np.zeros(n_images, dtype=bool)
        # the files that name this attribute, for a cluster or an image
        naming = [s for s in sources if attribute in s["label_file"].values
                  or any(attribute in i["values"] for i in s["label_file"].images)]
        for s in naming:  # image entries first
            for image in s["label_file"].images:
                given, row = image["values"].get(attribute, ""), image["row"]
                if not given:
                    continue
                if value[row] and value[row] != given:
                    conflicts[row] = True
                elif not value[row]:
                    value[row], source[row], conf[row] = given, f"{s['clustering']} (image)", 1.0
        for s in naming:
            by_cluster = s["label_file"].values.get(attribute)
            if not by_cluster:
                continue
            lookup = np.full(len(s["centroids"]), "", dtype=object)
            for cluster, text in by_cluster.items():
                lookup[cluster] = text
            given = lookup[s["labels"]]
            # this file's image entries say otherwise for these images
            given[[i["row"] for i in s["label_file"].images
                   if i["not_cluster"] or attribute in i["values"]]] = ""
            has = given != ""
            conflicts |= has & (value != "") & (given != value)
            fill = has & (value == "")
            if fill.any():
                margin = label_confidence(s["reduced"], s["centroids"], s["labels"], lookup)
                value[fill], source[fill], conf[fill] = given[fill], s["clustering"], margin[fill]
        value[bad], source[bad], conf[bad], conflicts[bad] = "", "", np.nan, False
        labelled = int(np.sum(value != ""))
        columns.update({attribute: value, f"{attribute}_source": source,
                        f"{attribute}_confidence": conf})
        summary.append({
            "attribute": attribute, "labelled": labelled, "coverage": labelled / n_images,
            "image_entries": sum(len(s["label_file"].images) for s in naming),
            "image_values": sum(bool(i["values"].get(attribute)) for s in naming
                                for i in s["label_file"].images),
            "conflicts": int(conflicts.sum()),
            "sources": " > ".join(s["clustering"] for s in naming
                                  if attribute in s["label_file"].values)})
    columns["labelled_outlier"] = bad
    return columns, summary


CONFIDENCE_BANDS = ((0.5, 1.0, ">=0.5"), (0.2, 0.5, "0.2-0.5"), (0.0, 0.2, "<0.2"))


def confidence_band(confidence):
    """The :data:`CONFIDENCE_BANDS` name of each confidence, '' where it is NaN (no label).

    Parameters
    ----------
    confidence : ndarray of shape (n,), float in [0, 1] or NaN

    Returns
    -------
    ndarray of shape (n,), object
    """
    conf = np.asarray(confidence, dtype=float)
    band = np.full(len(conf), "", dtype=object)
    for low, high, name in CONFIDENCE_BANDS:
        band[(conf >= low) & ((conf < high) | (high == 1.0))] = name
    return band


def cluster_names(label_file, k):
    """What a label file calls each cluster, for legends: its values joined by " · ",
    "bad images" for a cluster marked outlier, '' for one that names nothing.

    Parameters
    ----------
    label_file : LabelFile
    k : int

    Returns
    -------
    list of str, length k
    """
    names = []
    for cluster in range(k):
        if cluster in label_file.outlier_clusters:
            names.append("bad images")
            continue
        names.append(" · ".join(by_cluster[cluster] for by_cluster in label_file.values.values()
                                if cluster in by_cluster))
    return names


def label_accuracy(columns, truth):
    """Accuracy of the propagated labels against the ground truth, overall and by confidence band.

    Parameters
    ----------
    columns : dict
        From :func:`propagate`.
    truth : DataFrame
        The aligned ground truth (one column per attribute, '' = unknown), row order of
        the images.

    Returns
    -------
    list of dict
        attribute, band (``all`` or a :data:`CONFIDENCE_BANDS` name), n_images (labelled
        images with a known true value in the band), share (of those in all bands),
        accuracy (label equals the true value, compared without case or outer spaces).
    """
    rows = []
    for attribute in truth.columns:
        if attribute not in columns or attribute in ("paths", "outlier"):
            continue
        label = np.char.lower(columns[attribute].astype(str))
        true = np.char.lower(np.char.strip(truth[attribute].to_numpy(dtype=str)))
        known = (label != "") & (true != "")
        band = confidence_band(columns[f"{attribute}_confidence"])
        right = label == true
        bands = [("all", known)] + [(name, known & (band == name))
                                    for _, _, name in CONFIDENCE_BANDS]
        for name, members in bands:
            count = int(members.sum())
            rows.append({"attribute": attribute, "band": name, "n_images": count,
                         "share": count / known.sum() if known.sum() else float("nan"),
                         "accuracy": float(right[members].mean()) if count else float("nan")})
    return rows
