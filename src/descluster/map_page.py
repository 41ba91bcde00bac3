"""The map page of one (model, PCA variant): every image as a point, in the offline browser.

The page (``results/report/map_{model}_{variant}.html``) is drawn by ``browser/map.js`` from
two data scripts beside it (``file://`` pages may load scripts, not fetch files):
``map_{model}_{variant}.js`` with the coordinates and every colouring, packed (uint16
coordinates, uint8/uint16 codes, base64), loaded with the page; and the run's
``paths.js`` (:func:`descluster.site.write_paths_script`), added after the first paint.
The rule's step, :func:`descluster.steps.map.draw_map`, reads the inputs and writes both.
"""

import numpy as np

from descluster import site
from descluster.attributes import is_outlier_value
from descluster.labels import CONFIDENCE_BANDS, confidence_band

COORD_MAX = 65535  # coordinates are quantised to uint16
MAX_VALUES = 1000  # distinct values of one colouring; rarer ones are drawn as 'other'
SCORE_LEVELS = 256  # outlier scores are coloured by their percentile, in 256 steps
SCORE_TICKS = (0.0, 0.5, 0.9, 0.99, 1.0)  # percentiles the legend gives the score of


def quantise(layout):
    """(n, 2) coordinates in [0, 1] -> (x, y) uint16 in 0..65535 (y grows downwards on screen)."""
    q = np.rint(np.clip(np.asarray(layout, dtype=np.float64), 0.0, 1.0) * COORD_MAX)
    return q[:, 0].astype(np.uint16), (COORD_MAX - q[:, 1]).astype(np.uint16)


def codes_entry(codes, max_code):
    """``codes`` (n,) packed in the narrowest of uint8 / uint16 that holds ``max_code``."""
    dtype = np.uint8 if max_code <= 255 else np.uint16
    return {"bytes": np.dtype(dtype).itemsize, "codes": site.pack(codes, dtype)}


def categorical(name, group, values, max_values=MAX_VALUES, order=None):
    """A colouring by a text value per image.

    Parameters
    ----------
    values : ndarray of shape (n,), object
        '' = unknown.
    order : list of str or None
        The legend's values in this order (e.g. cluster ids); None = most frequent first.
        Values beyond ``max_values`` are drawn as one 'other' entry.

    Returns
    -------
    dict
        ``name``, ``group``, ``kind`` ('categorical'), ``values`` (str), ``counts``,
        ``other`` (images with a rarer value), ``bytes`` and ``codes`` (base64: index in
        ``values``, ``len(values)`` for 'other').
    """
    values = np.asarray(values, dtype=object)
    uniques, inverse, counts = np.unique(values.astype(str), return_inverse=True,
                                         return_counts=True)
    if order is None:
        ranked = np.lexsort((uniques, -counts))
    else:
        where = {v: i for i, v in enumerate(uniques)}
        ranked = np.array([where[v] for v in order if v in where], dtype=np.int64)
    ranked = ranked[:max_values]
    position = np.full(len(uniques), len(ranked), dtype=np.int64)
    position[ranked] = np.arange(len(ranked))
    codes = position[inverse]
    return {"name": name, "group": group, "kind": "categorical",
            "values": uniques[ranked].tolist(), "counts": counts[ranked].tolist(),
            "other": int(len(values) - counts[ranked].sum()),
            **codes_entry(codes, len(ranked))}


def score(name, group, values):
    """A colouring by a number per image (an outlier score), by its percentile.

    Returns
    -------
    dict
        ``name``, ``group``, ``kind`` ('score'), ``ticks`` ([percentile, score] at
        :data:`SCORE_TICKS`), ``bytes`` and ``codes`` (0..255: percentile step).
    """
    values = np.asarray(values, dtype=np.float64)
    rank = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    codes = (rank * SCORE_LEVELS // max(len(values), 1)).astype(np.uint8)
    ticks = [[share, site._round([np.quantile(values, share)])[0]] for share in SCORE_TICKS]
    return {"name": name, "group": group, "kind": "score", "ticks": ticks,
            **codes_entry(codes, SCORE_LEVELS - 1)}


def colourings(clusterings, truth, outliers, labels, variant_score):
    """Every colouring of one map, in the order the page offers them.

    Parameters
    ----------
    clusterings : list of (str, ndarray, list or None)
        Clustering name (``model/variant/kK``), cluster of each image (int), and the name
        of each cluster in the label file the run used (:func:`descluster.labels.cluster_names`;
        None when the clustering is not labelled): the colouring's ``names``, which the
        legend and the hover show beside each cluster's number.
    truth, labels : DataFrame or None
        ``attributes.parquet`` and ``labels.parquet`` (rows aligned).
    outliers : DataFrame
        ``outliers.parquet`` (rows aligned).
    variant_score : str
        The column of ``outliers`` with this variant's own score (may be absent).
    """
    result = []
    for name, clusters, names in clusterings:
        k = int(clusters.max()) + 1 if len(clusters) else 0
        entry = categorical(name, "clustering", clusters.astype(str),
                            order=[str(c) for c in range(k)])
        if names is not None:
            entry["names"] = [names[int(v)] for v in entry["values"]]
        result.append(entry)
    if truth is not None:
        for attribute in site.truth_attributes(truth):
            result.append(categorical(attribute, "ground truth",
                                      truth[attribute].fillna("").astype(str).to_numpy()))
        if "outlier" in truth.columns:
            kinds = truth["outlier"].fillna("").astype(str).str.strip()
            result.append(categorical("outlier kind", "ground truth",
                                      kinds.where(is_outlier_value(kinds), "").to_numpy()))
    if labels is not None:
        attributes = site.label_attributes(labels)
        for attribute in attributes:
            result.append(categorical(attribute, "propagated label",
                                      labels[attribute].fillna("").astype(str).to_numpy()))
        if "labelled_outlier" in labels.columns:
            result.append(categorical("labelled outlier", "propagated label", np.where(
                labels["labelled_outlier"].to_numpy(dtype=bool), "yes", "no")))
        for attribute in attributes:  # the band of label_accuracy.tsv, '' = no label
            result.append(categorical(
                f"{attribute} confidence", "label confidence",
                confidence_band(labels[f"{attribute}_confidence"].to_numpy(dtype=float)),
                order=[*(band for _, _, band in CONFIDENCE_BANDS), ""]))
    result.append(score("combined score", "outliers", outliers["combined_score"]))
    if variant_score in outliers.columns:
        result.append(score(f"score of {variant_score.removeprefix('score_')}", "outliers",
                            outliers[variant_score]))
    result.append(categorical("flagged", "outliers",
                              np.where(outliers["flag"].to_numpy(dtype=bool), "yes", "no"),
                              order=["yes", "no"]))
    return result


def map_page(model, variant, data_url):
    """The HTML of a map page, drawn by map.js from the data script ``data_url``."""
    body = [
        f"<link rel=\"stylesheet\" href=\"{site.FILES}/assets/map.css\">",
        "<p class=\"meta\">Every image of this model and variant, placed so that similar "
        "images lie close: each cell of a fine k-means is a disc (its area is its share of "
        "the images), the images nearest their centroid in its middle, the farthest on its "
        "rim. Hover a point for its picture, click to open it, select with the box or the "
        "lasso to list the images and mark them in a clustering's label file.</p>",
        "<div id=\"mapbar\" class=\"toolbar\"></div>",
        "<p id=\"noscript\" class=\"meta\">Loading the map&hellip; (this page needs JavaScript "
        "and the folder files/ beside it)</p>",
        "<div id=\"mapwrap\"><div id=\"mapbox\"><canvas id=\"map\" tabindex=\"0\" "
        "aria-label=\"map of all images\"></canvas><div id=\"tip\" hidden></div></div>"
        "<div id=\"legend\" class=\"legend\"></div></div>",
        "<div id=\"selection\"></div>",
    ]
    return site._page(f"map of {model}/{variant}", "\n".join(body),
                      ("labelfile.js", "labelstate.js", "map.js"), data_url)

