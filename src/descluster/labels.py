"""Cluster labels: templates to fill in, label files checked line by line, propagation to images."""

import numpy as np
import yaml

from descluster.errors import InputError

TEMPLATE_FIELDS = ("type", "view", "colour", "note")
_RESERVED = ("cluster", "size", "outlier")


def clustering_id(model, pca, k):
    """'osnet/pca150/k30': how a clustering is named in label files and the config."""
    return f"{model}/{pca}/k{k}"


def parse_clustering_id(name):
    """'osnet/pca150/k30' -> ('osnet', 'pca150', 30)."""
    model, pca, k = name.split("/")
    return model, pca, int(k.removeprefix("k"))


def template(model, pca, k, sizes):
    """YAML text of a label template for one clustering.

    Parameters
    ----------
    sizes : DataFrame
        ``sizes.tsv`` of the clustering (cluster, size, share, ...).
    """
    name = clustering_id(model, pca, k)
    lines = [
        f"# Labels for clustering {name}. Look at each cluster's card",
        f"# (results/report/{model}_{pca}_k{k}.html), fill in what you see, copy this file",
        "# to config/labels/ and list it under 'labels' in the config. Empty = unknown;",
        "# 'outlier: true' marks a cluster of bad images (glare, night, no vehicle...).",
        "# Fields other than cluster, size and outlier are attributes; you may add your own.",
        f"clustering: {name}",
        "clusters:",
    ]
    for cluster, size, share in sizes[["cluster", "size", "share"]].itertuples(index=False):
        lines.append(f"  - cluster: {cluster}  # {share:.1%} of the images")
        lines.append(f"    size: {size}")
        lines += [f'    {field}: ""' for field in TEMPLATE_FIELDS]
        lines.append("    outlier: false")
    return "\n".join(lines) + "\n"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping under the key '__line__'."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def read_label_file(path, expected_clustering, k, attributes=None):
    """Read and check one label file.

    Parameters
    ----------
    path : str or Path
    expected_clustering : str
        The clustering the config lists this file for (``model/pca/kK``).
    k : int
        Its number of clusters.
    attributes : list of str, optional
        Take only these attributes from the file.

    Returns
    -------
    values : dict of str -> dict of int -> str
        attribute -> cluster -> non-empty value.
    outlier_clusters : set of int
        Clusters marked ``outlier: true``.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise InputError(f"{path}: label file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("clusters"), list):
        raise InputError(f"{path}: expected a mapping with 'clustering' and a list 'clusters'")
    if document.get("clustering") != expected_clustering:
        raise InputError(
            f"{path}, line {document['__line__']}: the file is for clustering "
            f"{document.get('clustering')!r}, but the config lists it for {expected_clustering!r}"
        )
    values, outlier_clusters, seen = {}, set(), {}
    for entry in document["clusters"]:
        if not isinstance(entry, dict):
            raise InputError(f"{path}: every item of 'clusters' must be a mapping, got {entry!r}")
        line = entry.pop("__line__")
        cluster = entry.get("cluster")
        if isinstance(cluster, bool) or not isinstance(cluster, int) or not 0 <= cluster < k:
            raise InputError(f"{path}, line {line}: cluster {cluster!r} does not exist in "
                             f"{expected_clustering} (clusters 0 to {k - 1})")
        if cluster in seen:
            raise InputError(f"{path}, line {line}: cluster {cluster} is labelled twice "
                             f"(first on line {seen[cluster]})")
        seen[cluster] = line
        outlier = entry.get("outlier", False)
        if not isinstance(outlier, bool):
            raise InputError(f"{path}, line {line}: 'outlier' must be true or false, got {outlier!r}")
        if outlier:
            outlier_clusters.add(cluster)
        for attribute, value in entry.items():
            if attribute in _RESERVED or (attributes and attribute not in attributes):
                continue
            if value is not None and not isinstance(value, (str, int, float)):
                raise InputError(f"{path}, line {line}: '{attribute}' must be text, got {value!r}")
            text = "" if value is None else str(value).strip()
            if text:
                values.setdefault(attribute, {})[cluster] = text
    return values, outlier_clusters


def confidence(distances, labels, p90_distance):
    """Confidence of a propagated label from the image's distance to its centroid.

    ``clip(1.5 - distance / p90, 0, 1)`` with p90 the cluster's 90th-percentile
    distance: 1 in the inner half of the cluster, 0.5 at its 90th percentile, 0
    at 1.5 times it.

    Parameters
    ----------
    distances : ndarray of shape (n,)
    labels : ndarray of shape (n,), int
    p90_distance : ndarray of shape (k,)
    """
    spread = np.maximum(np.asarray(p90_distance, dtype=np.float64)[labels], 1e-12)
    return np.clip(1.5 - np.asarray(distances, dtype=np.float64) / spread, 0.0, 1.0)


def propagate(n_images, sources):
    """Labels of every image from labelled clusterings; earlier sources win.

    Parameters
    ----------
    n_images : int
    sources : list of dict
        In config order, each with ``clustering`` (name), ``labels`` (n,) int,
        ``confidence`` (n,) float and ``values`` (attribute -> cluster -> value, from
        :func:`read_label_file`).

    Returns
    -------
    columns : dict of str -> ndarray
        For each attribute: ``{a}`` (object, '' = unknown), ``{a}_source`` (object)
        and ``{a}_confidence`` (float, NaN where unknown).
    summary : list of dict
        attribute, labelled (images with a value), coverage (share), conflicts (images
        given different values by two sources), sources (in order of precedence).
    """
    columns, summary = {}, []
    attributes = list(dict.fromkeys(a for s in sources for a in s["values"]))
    for attribute in attributes:
        value = np.full(n_images, "", dtype=object)
        source = np.full(n_images, "", dtype=object)
        conf = np.full(n_images, np.nan)
        conflicts = np.zeros(n_images, dtype=bool)
        used = []
        for s in sources:
            by_cluster = s["values"].get(attribute)
            if not by_cluster:
                continue
            used.append(s["clustering"])
            lookup = np.full(int(s["labels"].max()) + 1, "", dtype=object)
            for cluster, text in by_cluster.items():
                if cluster < len(lookup):
                    lookup[cluster] = text
            given = lookup[s["labels"]]
            has = given != ""
            conflicts |= has & (value != "") & (given != value)
            fill = has & (value == "")
            value[fill], source[fill], conf[fill] = given[fill], s["clustering"], s["confidence"][fill]
        labelled = int(np.sum(value != ""))
        columns.update({attribute: value, f"{attribute}_source": source,
                        f"{attribute}_confidence": conf})
        summary.append({"attribute": attribute, "labelled": labelled,
                        "coverage": labelled / n_images, "conflicts": int(conflicts.sum()),
                        "sources": " > ".join(used)})
    return columns, summary
