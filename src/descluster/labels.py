"""Cluster labels: templates to fill in, label files checked line by line, propagation to images."""

import json

import numpy as np
import yaml

from descluster.errors import InputError
from descluster.yamlfile import StrictLoader, load_yaml, shorten

# keys with a meaning of their own in a cluster entry and in an image entry
CLUSTER_KEYS = ("cluster", "size", "note", "mixed", "outlier")
IMAGE_KEYS = ("path", "note", "outlier", "not_cluster")
# names of columns the workflow writes: an attribute named so would be misread
_WORKFLOW_COLUMNS = ("paths", "path", "row", "distance", "cluster", "labelled_outlier",
                     "outlier_score", "outlier_flag", "not_cluster")
_WORKFLOW_SUFFIXES = ("_source", "_confidence")
TOP_KEYS = ("clustering", "clusters", "images")


def clustering_id(model, variant, k):
    """'osnet/pca150/k30' (model, PCA variant name, k): how a clustering is named in label
    files, the config, the tables and the pages; the one place this id is built."""
    return f"{model}/{variant}/k{k}"


def parse_clustering_id(name):
    """'osnet/pca150/k30' -> ('osnet', 'pca150', 30): (model, variant, k)."""
    model, variant, k = name.split("/")
    return model, variant, int(k.removeprefix("k"))


def _text(value):
    """A string as the label file writes it: double-quoted, JSON escapes (valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def template(model, variant, k, sizes, attributes):
    """YAML text of a label template for one clustering (the browser writes the same format).

    Parameters
    ----------
    sizes : DataFrame
        ``sizes.tsv`` of the clustering (cluster, size, share, ...).
    attributes : list of str
        The attribute fields of every cluster, in order.
    """
    name = clustering_id(model, variant, k)
    lines = [
        f"# Labels for clustering {name}. Label it in the browser",
        f"# (results/report/{model}_{variant}_k{k}.html) or fill in this file by hand; save it in",
        '# config/labels/ and list it under \'labels\' in the config. "" = unknown.',
        "# mixed: true = the cluster cannot be named as a whole; outlier: true = a cluster of",
        "# bad images. Entries under 'images' are for single images and win over their cluster's.",
        f"clustering: {name}",
        "clusters:",
    ]
    for cluster, size, share in sizes[["cluster", "size", "share"]].itertuples(index=False):
        lines.append(f"  - cluster: {cluster}  # {share:.1%} of the images")
        lines.append(f"    size: {size}")
        lines += [f"    {field}: {_text('')}" for field in (*attributes, "note")]
        lines += ["    mixed: false", "    outlier: false"]
    lines.append("images: []")
    return "\n".join(lines) + "\n"


class _LineLoader(StrictLoader):
    """StrictLoader that records, for every mapping, its line ('__line__') and for each key
    its value's line and, for unquoted scalars, the text as written ('__plain__')."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        plain, lines = {}, {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            lines[key] = value_node.start_mark.line + 1
            if isinstance(value_node, yaml.ScalarNode) and value_node.style is None:
                plain[key] = value_node.value
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = lines
        mapping["__plain__"] = plain
        return mapping


def _strip_meta(entry):
    return {key: value for key, value in entry.items() if not str(key).startswith("__")}


def _attribute_value(path, entry, attribute, allowed):
    """The text of an attribute in an entry ('' = unknown), checked."""
    line = entry["__lines__"].get(attribute, entry["__line__"])
    value = entry[attribute]
    if isinstance(value, str) or value is None:
        text = "" if value is None else value.strip()
    elif isinstance(value, (bool, int, float)):
        written = entry["__plain__"].get(attribute, str(value))
        raise InputError(
            f"{path}, line {line}: '{attribute}: {shorten(written)[1:-1]}' is read by YAML as "
            f"{type(value).__name__} {shorten(value)}, not text; write it in quotes: "
            f"{attribute}: \"{shorten(written)[1:-1]}\"")
    else:
        raise InputError(f"{path}, line {line}: '{attribute}' must be text, got {shorten(value)}")
    if text and allowed and attribute in allowed and text not in allowed[attribute]:
        raise InputError(f"{path}, line {line}: {attribute} {shorten(text)} is not one of the "
                         f"allowed values (label_values.{attribute}): "
                         f"{shorten(', '.join(allowed[attribute]), 300)[1:-1]}")
    return text


def _check_attribute_name(path, entry, attribute):
    name = str(attribute)
    if name in _WORKFLOW_COLUMNS or name.endswith(_WORKFLOW_SUFFIXES):
        line = entry["__lines__"].get(attribute, entry["__line__"])
        raise InputError(f"{path}, line {line}: {shorten(name)} is the name of a column the "
                         "workflow writes; name the attribute otherwise")


def _flag(path, entry, key):
    value = entry.get(key, False)
    if not isinstance(value, bool):
        line = entry["__lines__"].get(key, entry["__line__"])
        raise InputError(f"{path}, line {line}: '{key}' must be true or false, got {shorten(value)}")
    return value


class LabelFile:
    """A checked label file (see :func:`read_label_file`).

    Attributes
    ----------
    values : dict of str -> dict of int -> str
        attribute -> cluster -> non-empty value (mixed clusters give none).
    outlier_clusters : set of int
        Clusters marked ``outlier: true``.
    images : list of dict
        Per-image entries in file order: ``path`` (normalised), ``outlier`` and
        ``not_cluster`` (bool), ``values`` (attribute -> non-empty value).
    """

    def __init__(self, values, outlier_clusters, images):
        self.values, self.outlier_clusters, self.images = values, outlier_clusters, images


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
        ``<path>, line N: <problem>`` for anything that could be misread.
    """
    from descluster.ingest import normalise_path

    document = load_yaml(path, loader=_LineLoader)
    if not isinstance(document, dict) or not isinstance(document.get("clusters"), list):
        raise InputError(f"{path}: expected a mapping with 'clustering' and a list 'clusters'")
    unknown = [key for key in _strip_meta(document) if key not in TOP_KEYS]
    if unknown:
        raise InputError(f"{path}, line {document['__lines__'][unknown[0]]}: unknown key "
                         f"{shorten(unknown[0])}; expected {', '.join(TOP_KEYS)}")
    if document.get("clustering") != expected_clustering:
        raise InputError(
            f"{path}, line {document['__line__']}: the file is for clustering "
            f"{shorten(document.get('clustering'))}, but the config lists it for {expected_clustering!r}"
        )
    wanted = (lambda name: name in attributes) if attributes else (lambda name: True)
    values, outlier_clusters, seen = {}, set(), {}
    for entry in document["clusters"]:
        if not isinstance(entry, dict):
            raise InputError(f"{path}: every item of 'clusters' must be a mapping, got {shorten(entry)}")
        line = entry["__line__"]
        cluster = entry.get("cluster")
        if isinstance(cluster, bool) or not isinstance(cluster, int) or not 0 <= cluster < k:
            raise InputError(f"{path}, line {line}: cluster {shorten(cluster)} does not exist in "
                             f"{expected_clustering} (clusters 0 to {k - 1})")
        if cluster in seen:
            raise InputError(f"{path}, line {line}: cluster {cluster} is labelled twice "
                             f"(first on line {seen[cluster]})")
        seen[cluster] = line
        mixed = _flag(path, entry, "mixed")
        if _flag(path, entry, "outlier"):
            outlier_clusters.add(cluster)
        for attribute in _strip_meta(entry):
            if attribute in CLUSTER_KEYS:
                continue
            _check_attribute_name(path, entry, attribute)
            text = _attribute_value(path, entry, attribute, allowed)
            if text and mixed:
                raise InputError(
                    f"{path}, line {entry['__lines__'][attribute]}: cluster {cluster} is marked "
                    f"mixed (it cannot be named as a whole) but names {attribute} {shorten(text)}; "
                    "clear one of them")
            if text and wanted(attribute):
                values.setdefault(str(attribute), {})[cluster] = text
    images = _read_image_entries(path, document, allowed, wanted, normalise_path)
    return LabelFile(values, outlier_clusters, images)


def _read_image_entries(path, document, allowed, wanted, normalise_path):
    entries = document.get("images") or []
    if not isinstance(entries, list):
        raise InputError(f"{path}, line {document['__lines__']['images']}: 'images' must be a "
                         "list of entries with a 'path'")
    images, seen = [], {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise InputError(f"{path}: every item of 'images' must be a mapping with a text "
                             f"'path', got {shorten(entry)}")
        line = entry["__line__"]
        image = normalise_path(entry["path"].strip())
        if image in seen:
            raise InputError(f"{path}, line {line}: image {shorten(image)} is listed twice "
                             f"(first on line {seen[image]})")
        seen[image] = line
        own = {}
        for attribute in _strip_meta(entry):
            if attribute in IMAGE_KEYS:
                continue
            _check_attribute_name(path, entry, attribute)
            text = _attribute_value(path, entry, attribute, allowed)
            if text and wanted(attribute):
                own[str(attribute)] = text
        images.append({"path": image, "line": line, "outlier": _flag(path, entry, "outlier"),
                       "not_cluster": _flag(path, entry, "not_cluster"), "values": own})
    return images


def propagate(paths, sources):
    """Labels of every image from labelled clusterings.

    Precedence: an image entry beats a cluster entry (of any file); between two files
    the earlier wins. ``not_cluster`` keeps its cluster's values of that file from the image.

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
        attribute, labelled (images with a value), coverage (share), image_entries,
        conflicts (images given different values by two entries), sources (in order
        of precedence).
    """
    from descluster.confidence import label_confidence

    n_images = len(paths)
    row_of = {path: row for row, path in enumerate(paths)}
    outlier = np.zeros(n_images, dtype=bool)
    for s in sources:
        for image in s["label_file"].images:
            if image["path"] not in row_of:
                raise InputError(f"{s['file']}, line {image['line']}: image "
                                 f"{shorten(image['path'])} is not among the images "
                                 "(images.paths)")
            image["row"] = row_of[image["path"]]
            outlier[image["row"]] |= image["outlier"]
        outlier |= np.isin(s["labels"], sorted(s["label_file"].outlier_clusters))
    columns, summary = {}, []
    attributes = list(dict.fromkeys(
        a for s in sources for a in (*s["label_file"].values,
                                     *(a for i in s["label_file"].images for a in i["values"]))))
    for attribute in attributes:
        value = np.full(n_images, "", dtype=object)
        source = np.full(n_images, "", dtype=object)
        conf = np.full(n_images, np.nan)
        conflicts = np.zeros(n_images, dtype=bool)
        used, n_image_entries = [], 0
        for s in sources:  # image entries first
            for image in s["label_file"].images:
                given, row = image["values"].get(attribute, ""), image["row"]
                if not given:
                    continue
                n_image_entries += 1
                if value[row] and value[row] != given:
                    conflicts[row] = True
                elif not value[row]:
                    value[row], source[row], conf[row] = given, f"{s['clustering']} (image)", 1.0
        for s in sources:
            by_cluster = s["label_file"].values.get(attribute)
            if not by_cluster:
                continue
            used.append(s["clustering"])
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
        labelled = int(np.sum(value != ""))
        columns.update({attribute: value, f"{attribute}_source": source,
                        f"{attribute}_confidence": conf})
        summary.append({"attribute": attribute, "labelled": labelled,
                        "coverage": labelled / n_images, "image_entries": n_image_entries,
                        "conflicts": int(conflicts.sum()), "sources": " > ".join(used)})
    columns["labelled_outlier"] = outlier
    return columns, summary


CONFIDENCE_BANDS = ((0.5, 1.0, ">=0.5"), (0.2, 0.5, "0.2-0.5"), (0.0, 0.2, "<0.2"))


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
        conf = columns[f"{attribute}_confidence"]
        right = label == true
        bands = [("all", known)] + [(name, known & (conf >= low) & ((conf < high) | (high == 1.0)))
                                    for low, high, name in CONFIDENCE_BANDS]
        for name, members in bands:
            count = int(members.sum())
            rows.append({"attribute": attribute, "band": name, "n_images": count,
                         "share": count / known.sum() if known.sum() else float("nan"),
                         "accuracy": float(right[members].mean()) if count else float("nan")})
    return rows
