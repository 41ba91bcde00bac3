"""A static HTML browser of the results: opens from disk, no server, no external assets.

The pages are written by Python; what a person edits (cluster names, image marks) is
built in the browser by the package's JavaScript (``descluster/browser/``), copied
next to the pages, from data files written here as ``<script>`` files (``file://``
pages may load scripts, not fetch JSON).
"""

import base64
import hashlib
import html
import json
import os
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from descluster.attributes import is_outlier_value
from descluster.errors import InputError
from descluster.files import write_text_atomic
from descluster.labels import clustering_id, parse_clustering_id

FILES = "files"  # under the report folder: assets/, data/, thumbs/
ASSETS = ("browser.css", "common.js", "tables.js", "labelfile.js", "clustering.js",
          "outliers.js", "map.js", "map.css", "labelstate.js", "review.js")
THUMB = (160, 120)
CHUNK = 500  # members per gallery data file
GRAMMAR_SCRIPT = "grammar.js"  # written by copy_assets beside the package's assets
PATHS_NAME = "paths"  # name the paths script registers its data under (DC.chunk)
OUTLIER_THUMBS = 300  # highest-ranked flagged images that get a thumbnail
HISTOGRAM_BINS = 40  # bins of the outliers page's histogram of the combined score
TRUTH_TOP = 3  # values per attribute shown in a cluster's breakdown
REVIEW_LIMIT = 2000  # images per list of a review page (the least sure first)
REVIEW_THUMBS = 60  # of them, the first that get a thumbnail (the first page)

def _check_script():
    """The page check (``browser/check.js``: counts pictures and scripts that fail to load),
    without the file's leading comment, to inline into every page's head: inline, it still
    reports when the page was moved away from its files."""
    text = (resources.files("descluster") / "browser" / "check.js").read_text(encoding="utf-8")
    return "\n" + text.split("*/\n", 1)[1]


def _page(title, body, scripts=(), data=None):
    """A whole page; ``scripts`` are asset names, ``data`` a data file loaded before them."""
    assets = f"{FILES}/assets"
    tags = [f'<script src="{assets}/{name}"></script>'
            for name in ("common.js", GRAMMAR_SCRIPT, "tables.js")]
    if data:
        tags.append(f'<script src="{html.escape(data)}"></script>')
    tags += [f'<script src="{assets}/{name}"></script>' for name in scripts]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\">"
            f"<title>{html.escape(title)}</title>"
            f"<link rel=\"stylesheet\" href=\"{assets}/browser.css\">"
            f"<script>{_check_script()}</script></head>\n<body>"
            f"<nav><a href=\"index.html\">index</a><a href=\"outliers.html\">outliers</a></nav>"
            f"<p id=\"broken\" class=\"warn\" hidden></p>\n<h1>{html.escape(title)}</h1>\n{body}\n"
            + "".join(tags) + "</body></html>\n")


def _cell(value):
    """(text, numeric sort key or None) of one table cell."""
    if isinstance(value, (bool, np.bool_)):
        return str(value), None
    if isinstance(value, (float, np.floating)):
        if value != value:
            return "", None
        return f"{value:.4g}", repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(value), str(value)
    return str(value), None


def table(frame, links=None):
    """A sortable, filterable HTML table of a DataFrame (wide tables scroll inside the page).

    ``links`` maps a column to a function value -> href.
    """
    links = links or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            text, key = _cell(value)
            text = html.escape(text)
            if column in links:
                text = f"<a href=\"{html.escape(links[column](value))}\">{text}</a>"
            sort = f' data-v="{key}"' if key is not None else ""
            cells.append(f"<td{sort}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class=\"scroll\"><table class=\"sortable\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _url(path, page_dir):
    """Relative URL from the page folder to a file (each segment percent-encoded)."""
    try:
        relative = Path(os.path.relpath(path, page_dir)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).resolve().as_uri()
    return quote(relative)


def _image(path, page_dir, alt):
    return (f"<img src=\"{html.escape(_url(path, page_dir))}\" alt=\"{html.escape(alt)}\" "
            f"loading=\"lazy\">")


def page_name(clustering):
    """File name of a clustering's page: 'osnet/pca150/k30' -> 'osnet_pca150_k30.html'."""
    return clustering.replace("/", "_") + ".html"


def review_page_name(clustering):
    """File name of a labelled clustering's review page: 'review_osnet_pca150_k30.html'."""
    return "review_" + page_name(clustering)


def _clustering_name(row):
    return clustering_id(row.model, row.pca, row.k)


# --- index ------------------------------------------------------------------------

def _recommendation(tables, label_fields, link):
    """Index section: the one recommendation per attribute (``recommended.tsv``, written by
    :func:`descluster.steps.validate.recommend_clusterings`), label fields first."""
    recommended = tables["recommended"]
    tolerance = float(recommended["tolerance"].iloc[0]) if len(recommended) else 0.02
    parts = [f"<p class=\"meta\" id=\"recommendation\">Per attribute, the clustering to label: "
             f"among those whose purity is within {tolerance:.0%} of the best, the one with the "
             "fewest clusters to name (purity: the share of images right when each cluster is "
             "named after its most common value; it grows with k, and so does the work). The "
             "same rows are in results/summary/recommended.tsv.</p>"]
    fields = [a for a in label_fields if a in set(recommended["attribute"])]
    order = fields + [a for a in recommended["attribute"] if a not in fields]
    shown = recommended.set_index("attribute").loc[order].reset_index()
    shown.insert(1, "label field", ["yes" if a in label_fields else "no (ground truth only)"
                                    for a in shown["attribute"]])
    parts.append(table(shown[["attribute", "label field", "clustering", "k", "purity",
                              "best_clustering", "best_k", "best_purity", "trade_off"]],
                       {"clustering": link, "best_clustering": link}))
    unmeasured = [a for a in label_fields if a not in set(recommended["attribute"])]
    if unmeasured:
        parts.append("<p class=\"meta\">No ground truth for " + html.escape(", ".join(unmeasured))
                     + ": nothing measures which clustering names it best; label it on a "
                     "clustering recommended above (its cards show it).</p>")
    return parts


def _which_clustering(tables, clusterings, label_fields):
    """Index section: which clustering to label, per attribute (or the k-scan's suggestion)."""
    parts = ["<h2 id=\"which\">Which clustering should I label?</h2>"]
    link = page_name
    if "recommended" in tables:
        parts += _recommendation(tables, label_fields, link)
    else:
        parts.append("<p class=\"meta\">No ground truth: nothing measures which clustering "
                     "names an attribute best. The k-scan's suggestion per model and variant "
                     "(by the shape of the clusters alone), and the configured clusterings.</p>")
        if "suggested" in tables:
            parts += ["<h3>The k-scan's suggestion</h3>", table(tables["suggested"])]
        parts += ["<h3>Configured clusterings</h3>", table(clusterings, {"clustering": link})]
    if "validation" in tables:
        validation = tables["validation"]
        validation = validation.assign(clustering=[_clustering_name(r) for r in
                                                   validation.itertuples(index=False)])
        validation = validation[validation["clustering"].isin(clusterings["clustering"])]
        chosen = (dict(zip(tables["recommended"]["attribute"], tables["recommended"]["clustering"]))
                  if "recommended" in tables else {})
        parts += ["<details><summary>Every clustering by attribute, fewest clusters first "
                  "(the evidence behind the recommendation)</summary>"]
        for attribute, rows in validation.groupby("attribute", sort=False):
            rows = rows.sort_values(["k", "purity"], ascending=[True, False], kind="stable")
            rows = rows.assign(recommended=np.where(rows["clustering"] == chosen.get(attribute),
                                                    "recommended", ""))
            parts += [f"<h3>{html.escape(str(attribute))}</h3>",
                      table(rows[["clustering", "k", "n_labelled", "purity", "nmi", "ari",
                                  "recommended"]], {"clustering": link})]
        parts.append("</details>")
    if "effort" in tables:
        parts += ["<details><summary>Labelling effort: purity by number of clusters, for every "
                  "k of the k-scan</summary>",
                  "<p class=\"meta\">Share of images right when each of the k clusters of a "
                  "k-scan is named after its majority value.</p>"]
        effort = tables["effort"]
        for attribute, rows in effort.groupby("attribute", sort=False):
            wide = rows.pivot_table(index=["model", "pca"], columns="k", values="purity",
                                    sort=False).reset_index()
            wide.columns = [str(c) if isinstance(c, str) else f"k={c}" for c in wide.columns]
            parts += [f"<h4>{html.escape(str(attribute))}</h4>", table(wide)]
        parts.append("</details>")
    return parts


def index_page(models, clusterings, tables, figures, page_dir, label_fields=(), reviews=()):
    """The index: which clustering to label, per model its figures and digest, summary tables.

    Parameters
    ----------
    models : list of str
    clusterings : DataFrame
        One row per clustering with a page: ``clustering`` (``model/variant/kK``), ``model``,
        ``pca``, ``k``, ``smallest_share``, ``largest_share``.
    tables : dict
        DataFrames: ``models`` (model -> digest), optional ``ranking``, ``validation``,
        ``recommended``, ``labels``, ``suggested``, ``accuracy`` (label_accuracy.tsv),
        ``effort`` (labelling_effort.tsv).
    figures : dict
        Paths: ``pca`` and ``kscan`` (model -> PNG), ``agreement``.
    label_fields : list of str
        Config ``label_attributes``: the recommendation lists them first.
    reviews : list of str
        The labelled clusterings, which have a review page.
    """
    parts = ["<p class=\"meta\">Clusterings of image descriptors. Pick a clustering, name its "
             "clusters on its page (keyboard first, kept in this browser), download the label "
             "file, save it in config/labels/ and list it under 'labels' in the config.</p>"]
    parts += _which_clustering(tables, clusterings, list(label_fields))
    if reviews:
        parts += ["<h2 id=\"review\">Review the likely mistakes</h2>",
                  "<p class=\"meta\">Per labelled clustering, the images whose labels are the "
                  "least sure and those two labelled clusterings disagree on, to fix one key "
                  "each.</p>",
                  "<p>" + " ".join(f"<a href=\"{html.escape(review_page_name(c))}\">"
                                   f"{html.escape(c)}</a>" for c in reviews) + "</p>"]
    if "accuracy" in tables and len(tables["accuracy"]):  # no rows without ground truth
        parts += ["<h2>Accuracy of the propagated labels</h2>",
                  "<p class=\"meta\">Against the ground truth, by confidence band.</p>",
                  table(tables["accuracy"])]
    if "ranking" in tables:
        parts += ["<h2>How well each model's clusters match each attribute (best ARI)</h2>",
                  "<p class=\"meta\">Agreement of the clusters as a whole with each attribute; "
                  "which clustering to label is the recommendation above.</p>",
                  table(tables["ranking"])]
    for model in models:
        digest = tables["models"][model]
        parts += [f"<h2 id=\"{html.escape(model)}\">{html.escape(model)}</h2>",
                  table(digest)]
        if "recommended" in tables:  # the digest's suggested_k is not advice then
            parts.append("<p class=\"meta\">suggested_k: the lowest Davies-Bouldin of the "
                         "k-scan, an index value; which clustering to label is the "
                         "recommendation above.</p>")
        parts += [_image(figures["pca"][model], page_dir, f"{model} explained variance"),
                  _image(figures["kscan"][model], page_dir, f"{model} k-scan")]
        mine = [c for c in clusterings["clustering"] if c.split("/")[0] == model]
        if mine:
            parts.append("<p>Clusterings: " + " ".join(
                f"<a href=\"{page_name(c)}\">{html.escape(c)}</a>" for c in mine) + "</p>")
            mapped = list(dict.fromkeys(c.split("/")[1] for c in mine))
            parts.append("<p>Maps of all images: " + " ".join(
                f"<a href=\"{html.escape(f'map_{model}_{v}.html')}\">{html.escape(v)}</a>"
                for v in mapped) + "</p>")
    parts += ["<h2>Agreement between clusterings</h2>",
              _image(figures["agreement"], page_dir, "agreement heatmap")]
    if "labels" in tables:
        parts += ["<h2>Propagated labels</h2>", table(tables["labels"])]
    if "validation" in tables:
        parts += ["<h2>Validation against ground truth</h2>", table(tables["validation"])]
    return _page("descluster results", "\n".join(parts))


# --- clustering pages ---------------------------------------------------------------

def clustering_page(clustering, cards, data_file):
    """The page of one clustering: cluster cards with label forms, built by clustering.js.

    Parameters
    ----------
    cards : DataFrame
        The clusters table shown under the cards (``cards.tsv``, plus breakdown columns).
    data_file : str
        URL of the page's data script, relative to the page.
    """
    body = [
        "<div id=\"toolbar\" class=\"toolbar\"></div>",
        "<p id=\"noscript\" class=\"meta\">Loading the cluster cards&hellip; (this page needs "
        "JavaScript and the folder files/ beside it)</p>",
        "<div id=\"cards\"></div>",
        "<details><summary>Table of clusters</summary>",
        table(cards, {"cluster": lambda c: f"#cluster-{c}"}),
        "</details>",
    ]
    return _page(clustering, "\n".join(body), ("labelfile.js", "labelstate.js", "clustering.js"),
                 data_file)


def encode_values(values):
    """One attribute's values as codes, for :func:`breakdown`.

    Parameters
    ----------
    values : ndarray of shape (n,), object
        '' = unknown.

    Returns
    -------
    codes : ndarray of shape (n,), int64
        Position of each value in ``distinct``; -1 where unknown.
    distinct : ndarray of shape (m,), object
        The known values, sorted.
    """
    values = np.asarray(values, dtype=object)
    known = values != ""
    distinct, inverse = np.unique(values[known], return_inverse=True)
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[known] = inverse
    return codes, distinct


def breakdown(clusters, encoded, top=TRUTH_TOP):
    """The most common values of one attribute in each cluster.

    Parameters
    ----------
    clusters : ndarray of shape (n,), int >= 0
    encoded : (codes, distinct)
        The attribute's values, :func:`encode_values`.

    Returns
    -------
    dict of int -> dict
        cluster -> ``{"n": members with a known value, "top": [[value, share], ...]}``
        (at most ``top`` values, most common first, ties by value).
    """
    codes, distinct = encoded
    known = codes >= 0
    n_values = max(len(distinct), 1)
    pairs, counts = np.unique(np.asarray(clusters, dtype=np.int64)[known] * n_values
                              + codes[known], return_counts=True)
    cluster, value = pairs // n_values, pairs % n_values
    order = np.lexsort((value, -counts, cluster))  # by cluster, count down, value up
    cluster, value, counts = cluster[order], value[order], counts[order]
    starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]]) if len(cluster) else []
    result = {}
    for start, stop in zip(starts, [*starts[1:], len(cluster)]):
        n = int(counts[start:stop].sum())
        shown = slice(start, min(stop, start + top))
        result[int(cluster[start])] = {"n": n, "top": [[str(distinct[v]), round(c / n, 4)] for
                                                       v, c in zip(value[shown], counts[shown])]}
    return result


def thumb_name(path):
    """File name of an image's thumbnail: a hash of its path (paths may hold any character)."""
    return hashlib.sha1(path.encode("utf-8"), usedforsecurity=False).hexdigest()[:20] + ".jpg"


def write_thumbnails(paths, root, folder, known, size=THUMB):
    """Write a small JPEG per readable image into ``folder``, each image once.

    Parameters
    ----------
    paths : iterable of str
        Image paths relative to ``root``.
    root : path or None
        Without a root nothing is written.
    known : dict of str -> str or None
        Images already tried (path -> file name, None when unreadable); updated.

    Returns
    -------
    dict of str -> str
        Path -> thumbnail file name, for those of ``paths`` that could be read.
    """
    from descluster import gallery

    if not root:
        return {}
    for path in paths:
        if path not in known:
            tile, problem = gallery.load_tile(root, path, size)
            known[path] = None if problem else thumb_name(path)
            if known[path]:
                tile.save(Path(folder) / known[path], quality=85)
    return {path: known[path] for path in paths if known[path]}


def _round(values, digits=4):
    """Numbers for JSON: ``digits`` significant digits (so they print short), NaN -> None."""
    x = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    shift = digits - 1 - np.where(np.isfinite(magnitude), magnitude, 0)
    # divide or multiply by an exact power of ten: the nearest double of the short decimal
    up, down = 10.0 ** np.maximum(shift, 0), 10.0 ** np.maximum(-shift, 0)
    rounded = np.round(x * up / down) / up * down
    return [None if v != v else v for v in rounded.tolist()]


def check_rows(found, expected, source):
    """Stop unless ``found`` (an array of image paths or row numbers) equals ``expected``."""
    if len(found) != len(expected) or not np.array_equal(found, expected):
        raise InputError(f"{source}: its rows are not the images of the clustering, in the "
                         f"order of results/ingest/images.parquet; rerun the workflow")


def aligned(frame, paths, source, column="paths"):
    """``frame`` checked to be in the row order of ``paths``: its ``column`` equals
    ``paths`` (normalised paths; with ``column="row"``, the row numbers 0..n-1)."""
    check_rows(frame[column].to_numpy(), paths, source)
    return frame.reset_index(drop=True)


def truth_attributes(truth):
    """Ground-truth attributes of an ``attributes.parquet`` (not ``paths``, not ``outlier``)."""
    return [c for c in truth.columns if c not in ("paths", "outlier")]


def label_attributes(labels):
    """Attributes of a ``labels.parquet``: columns with a ``{a}_source`` beside them."""
    return [c for c in labels.columns if f"{c}_source" in labels.columns]


def aligned_labels(labels, n_images, source):
    """A ``labels.parquet`` checked to hold rows 0..n-1 in order (its ``paths`` are as the
    user's paths file writes them, so the rows are compared, not the paths)."""
    return aligned(labels, np.arange(n_images), source, column="row")


def _by_frequency(values):
    values = values[values != ""]
    return pd.Series(values).value_counts(sort=True).index.astype(str).tolist()


def encode_attributes(truth, labels):
    """What :func:`summaries` needs of the ground truth and the propagated labels, once for
    every clustering of a run (the images are the same).

    Parameters
    ----------
    truth, labels : DataFrame or None
        ``attributes.parquet`` and ``labels.parquet``, in image row order.

    Returns
    -------
    dict
        ``truth`` and ``labels`` (attribute -> :func:`encode_values`), ``truthOutliers``
        (the ground-truth outlier kinds encoded, or None), ``labelledOutliers`` (bool
        ndarray of shape (n,), or None), ``suggestions`` (attribute -> values, most
        frequent first, ground truth then propagated labels).
    """
    encoded = {"truth": {}, "labels": {}, "truthOutliers": None, "labelledOutliers": None,
               "suggestions": {}}
    if truth is not None:
        for attribute in truth_attributes(truth):
            values = truth[attribute].fillna("").astype(str).to_numpy(dtype=object)
            encoded["truth"][attribute] = encode_values(values)
            encoded["suggestions"][attribute] = _by_frequency(values)
        if "outlier" in truth.columns:
            kinds = truth["outlier"].fillna("").astype(str).to_numpy(dtype=object)
            encoded["truthOutliers"] = encode_values(np.where(is_outlier_value(kinds), kinds, ""))
    if labels is not None:
        for attribute in label_attributes(labels):
            values = labels[attribute].fillna("").astype(str).to_numpy(dtype=object)
            encoded["labels"][attribute] = encode_values(values)
            known = encoded["suggestions"].setdefault(attribute, [])
            known += [v for v in _by_frequency(values) if v not in known]
        if "labelled_outlier" in labels.columns:
            encoded["labelledOutliers"] = labels["labelled_outlier"].to_numpy(dtype=bool)
    return encoded


def summaries(clusters, encoded):
    """What the cards say about each cluster's members, beside the pictures.

    Parameters
    ----------
    clusters : ndarray of shape (n,), int
    encoded : dict
        :func:`encode_attributes`, rows aligned with ``clusters``.

    Returns
    -------
    dict
        ``truth`` and ``labels`` (attribute -> :func:`breakdown`), ``truthOutliers``
        (breakdown of ground-truth outlier kinds), ``labelledOutliers`` (cluster ->
        images with ``labelled_outlier``), ``suggestions`` (as in ``encoded``).
    """
    result = {group: {a: breakdown(clusters, e) for a, e in encoded[group].items()}
              for group in ("truth", "labels")}
    result["truthOutliers"] = ({} if encoded["truthOutliers"] is None
                               else breakdown(clusters, encoded["truthOutliers"]))
    result["labelledOutliers"] = {}
    if encoded["labelledOutliers"] is not None:
        ids, counts = np.unique(clusters[encoded["labelledOutliers"]], return_counts=True)
        result["labelledOutliers"] = dict(zip(ids.tolist(), counts.tolist()))
    result["suggestions"] = encoded["suggestions"]
    return result


def shown_members(assignments, cards, seed, scores):
    """The members each card shows: those of draw_cards' contact sheet, as tile records.

    Parameters
    ----------
    assignments : DataFrame
        ``paths, cluster, distance`` of all images.
    cards : DataFrame
        ``cards.tsv`` (its ``cluster`` column).
    seed : int
        draw_cards' seed.
    scores : DataFrame
        ``score`` (float) and ``flag`` (bool), aligned with ``assignments``.

    Returns
    -------
    dict of int -> dict of str -> list of list
        Cluster -> row kind (nearest, random, farthest) -> ``[path, distance, outlier
        score, flagged (0/1)]`` per member.
    """
    from descluster import gallery

    paths, distance = assignments["paths"].to_numpy(), assignments["distance"].to_numpy()
    groups = assignments.groupby("cluster").indices
    shown = {}
    for cluster in cards["cluster"]:
        if cluster not in groups:
            continue
        members = groups[cluster]
        picked = gallery.pick_members(distance[members], gallery.TILES_PER_ROW,
                                      seed + int(cluster))
        shown[int(cluster)] = {
            kind: [[str(p), d, s, int(f)] for p, d, s, f in zip(
                paths[rows], _round(distance[rows]), _round(scores["score"].to_numpy()[rows], 3),
                scores["flag"].to_numpy()[rows])]
            for kind, rows in ((kind, members[at]) for kind, at in picked.items())}
    return shown


def member_scores(scores, paths, source):
    """``score`` (combined outlier score) and ``flag`` of each image, in the order of ``paths``."""
    scores = aligned(scores, paths, source)
    return pd.DataFrame({"score": scores["combined_score"].to_numpy(dtype=float),
                         "flag": scores["flag"].to_numpy(dtype=bool)})


def member_chunks(assignments, size=CHUNK):
    """All members of every cluster, nearest the centroid first, in chunks of ``size``.

    Label-independent (the outlier scores, which labels change, come from the run-wide
    scores script of :func:`write_scores`), so a label edit does not rewrite them.

    Parameters
    ----------
    assignments : DataFrame
        ``cluster, distance`` in image row order.

    Yields
    ------
    cluster : int
    index : int
        Chunk number within the cluster.
    payload : dict
        ``rows`` (image row numbers: the page looks their paths up in ``paths.js``) and
        ``distance``, lists.
    """
    cluster = assignments["cluster"].to_numpy()
    distance = assignments["distance"].to_numpy()
    order = np.lexsort((distance, cluster))
    sorted_clusters = cluster[order]
    distance = distance[order]
    starts = np.flatnonzero(np.r_[True, sorted_clusters[1:] != sorted_clusters[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for start, end in zip(starts, ends):
        for index, at in enumerate(range(start, end, size)):
            stop = min(at + size, end)
            yield int(sorted_clusters[start]), index, {
                "rows": order[at:stop].tolist(), "distance": _round(distance[at:stop])}


def pack(array, dtype):
    """Base64 of ``array`` as little-endian ``dtype`` (what the page reads with typed arrays)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
                            .tobytes()).decode("ascii")


def unpack(text, dtype):
    """The array :func:`pack` packed."""
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def front_code(paths):
    """Paths as (shared prefix with the previous path, rest): what ``paths.js`` holds.

    Parameters
    ----------
    paths : sequence of str

    Returns
    -------
    prefix : ndarray of shape (n,), uint8
        Leading UTF-16 code units shared with the previous path (at most 255; JavaScript
        strings count UTF-16 units, and a prefix never splits a character).
    rest : list of str
        The remaining characters of each path.
    """
    text = np.asarray(list(paths), dtype=str)
    n = len(text)
    if n == 0:
        return np.zeros(0, dtype=np.uint8), []
    width = max(1, text.dtype.itemsize // 4)
    points = text.view(np.uint32).reshape(n, width)
    same = np.zeros((n, width), dtype=bool)
    same[1:] = (points[1:] == points[:-1]) & (points[1:] != 0)
    shared = np.where(same.all(axis=1), width, np.argmin(same, axis=1))
    shared = np.minimum(shared, 255)
    # code points above U+FFFF are two UTF-16 units in JavaScript
    wide = np.concatenate([np.zeros((n, 1), dtype=np.int64),
                           np.cumsum(points > 0xFFFF, axis=1)], axis=1)
    units = shared + wide[np.arange(n), shared]
    while (units > 255).any():  # astral characters pushed a prefix past 255 units: shorten
        shared = np.where(units > 255, shared - 1, shared)
        units = shared + wide[np.arange(n), shared]
    rest = [p[s:] for p, s in zip(text.tolist(), shared.tolist())]
    return units.astype(np.uint8), rest


def write_paths_script(paths, refused_rows, out_script):
    """The run's ``paths.js``: every image path in row order, front-coded (about 10 bytes an
    image), and the rows whose original file the pages must not show. Pages load it once
    and look paths up by row: galleries and maps hold rows only.

    Parameters
    ----------
    paths : sequence of str
        ``paths`` of images.parquet.
    refused_rows : ndarray of shape (m,), int
        Rows whose original failed :func:`descluster.gallery.original_problem`.
    out_script : path
        Written atomically: ``DC.chunk("paths", {prefix: base64 uint8, rest: [str],
        refused: base64 uint32})``.
    """
    prefix, rest = front_code(paths)
    write_text_atomic(out_script, script_data(
        "chunk", PATHS_NAME, {"prefix": pack(prefix, np.uint8), "rest": rest,
                              "refused": pack(np.asarray(refused_rows), np.uint32)}))


def gallery_name(page_stem):
    """The gallery folder of a clustering page, relative to the report folder."""
    return f"gallery/{page_stem}"


def write_gallery(assignments, page_stem, folder):
    """Write one clustering's gallery chunks (:func:`member_chunks`) into ``folder``.

    Each is a script ``c{cluster}_{index}.js`` calling ``DC.chunk``.
    """
    for cluster, index, payload in member_chunks(assignments):
        chunk = f"c{cluster}_{index}"
        (Path(folder) / f"{chunk}.js").write_text(
            script_data("chunk", f"{page_stem}/{chunk}", payload), encoding="utf-8")


def write_scores(scores, folder):
    """The run-wide outlier scores script ``scores.js``: ``score`` (rounded) and ``flag``
    (0/1) of every image in row order, for the galleries' tiles."""
    payload = {"score": _round(scores["combined_score"].to_numpy(dtype=float), 3),
               "flag": scores["flag"].to_numpy(dtype=bool).astype(int).tolist()}
    (Path(folder) / "scores.js").write_text(script_data("chunk", "scores", payload),
                                           encoding="utf-8")


def script_data(call, *args):
    """A data file: one call of a ``DC`` function with JSON arguments."""
    text = ",".join(json.dumps(a, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
                    for a in args)
    return f"DC.{call}({text});\n"


def copy_assets(folder):
    """Copy the browser's JavaScript and CSS (package data) into ``folder``, and write
    ``grammar.js`` there: the label-file and name grammar (``descluster/grammar.json``, the
    one the workflow's reader applies) as ``DC.grammar``, for every page's parser."""
    from descluster.names import grammar

    source = resources.files("descluster") / "browser"
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        with resources.as_file(source / name) as file:
            shutil.copyfile(file, Path(folder) / name)
    (Path(folder) / GRAMMAR_SCRIPT).write_text(
        "window.DC = window.DC || {};\nDC.grammar = " +
        json.dumps(grammar(), ensure_ascii=True, separators=(",", ":")) + ";\n",
        encoding="utf-8")


def image_root_url(root, page_dir):
    """URL prefix of original images from the pages (ending in '/'), or None without a root."""
    return _url(root, page_dir).rstrip("/") + "/" if root else None


@dataclass(frozen=True)
class Report:
    """Where the browser is written.

    ``page_dir`` is results/report; ``files`` its folder of assets, data scripts and
    thumbnails, written in ``staging`` first (renamed to ``files`` when all is done);
    ``images_root`` the folder of the original images (or None); ``paths_script`` the
    run's ``paths.js`` (:func:`write_paths_script`); ``labelling`` what every page that
    edits label files is told (:func:`labelling_context`).
    """

    page_dir: Path
    files: Path
    staging: Path
    images_root: str | None
    paths_script: Path
    labelling: dict = field(default_factory=dict)  # see labelling_context
    thumbs: dict = field(default_factory=dict)  # see write_thumbnails(known=...)

    @property
    def files_url(self):
        return self.files.relative_to(self.page_dir).as_posix()

    def common(self):
        """What every data script says: where pictures are, and the labelling context."""
        return {"imageRoot": image_root_url(self.images_root, self.page_dir),
                "thumbs": f"{self.files_url}/thumbs/",
                "paths": _url(self.paths_script, self.page_dir), "pathsName": PATHS_NAME,
                **self.labelling}


def text_hash(text):
    """The first 16 hex digits of the SHA-256 of a text's UTF-8 bytes: how the pages tell
    one version of a label file from another (their browser storage is keyed by it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def label_base(template, label_file=None):
    """The label file a clustering's pages start from: the one the config lists for it under
    ``labels:`` (the file the run used), else its template.

    Parameters
    ----------
    template : path
        The clustering's label template.
    label_file : path or None
        Its file under ``labels:``, as the config names it.

    Returns
    -------
    dict
        ``text`` (the file), ``hash`` (:func:`text_hash`: the pages keep unsaved edits
        under the clustering and this, so a moved or copied folder, another browser or a
        colleague starts from the same file, and edits of another version never apply),
        ``source`` (its path as given) and ``listed`` (whether it is a listed label file).
    """
    path = Path(label_file or template)
    text = path.read_text(encoding="utf-8")
    return {"text": text, "hash": text_hash(text), "source": path.as_posix(),
            "listed": label_file is not None}


def label_rules(allowed):
    """The run's own rules of a label file, which the pages apply while a person edits
    beside the grammar every page has (``DC.grammar``, :func:`copy_assets`): together
    what the workflow's reader (:func:`descluster.labels.read_label_file`) checks, so that
    a downloaded file is never refused by the run.

    Parameters
    ----------
    allowed : dict of str -> list of str
        Config ``label_values``: per attribute, the closed list of its values.

    Returns
    -------
    dict
        ``values`` (``allowed``) and ``mixedNamesNothing`` (a cluster marked mixed gives
        no value).
    """
    return {"values": {a: list(v) for a, v in allowed.items()}, "mixedNamesNothing": True}


def recommended_clustering(recommended, label_fields, clusterings):
    """The clustering the index recommends first (:func:`_recommendation`'s first row: the
    first label field's, else the first attribute's): ``(clustering, attribute)``, or
    ``(None, None)`` when ``recommended`` (``recommended.tsv``, or None) names none of
    ``clusterings``."""
    if recommended is None:
        return None, None
    attributes = list(recommended["attribute"])
    order = [a for a in label_fields if a in attributes] + [
        a for a in attributes if a not in label_fields]
    by_attribute = dict(zip(recommended["attribute"], recommended["clustering"]))
    for attribute in order:
        if by_attribute[attribute] in clusterings:
            return by_attribute[attribute], attribute
    return None, None


def labelling_context(clusterings, labelled, allowed, recommended=None, label_fields=()):
    """What every page that edits label files is told (:attr:`Report.labelling`).

    Parameters
    ----------
    clusterings : list of str
        Every final clustering (``model/variant/kK``).
    labelled : list of str
        The clusterings listed under ``labels:``, in config order.
    allowed : dict
        Config ``label_values``.
    recommended : DataFrame or None
        ``recommended.tsv`` (attribute, clustering), when the run measured it.
    label_fields : list of str
        Config ``label_attributes``: the recommendation for the first one comes first.

    Returns
    -------
    dict
        ``rules`` (:func:`label_rules`), ``labelled``, ``clusterings``, ``recommended``
        and ``recommendedFor`` (:func:`recommended_clustering`), and ``project``: an id of
        this set of clusterings, under which the pages remember the working clustering
        (the one the map and the outliers page mark images in; until a person chooses,
        the first labelled one, else the recommended one, else the first).
    """
    first, attribute = recommended_clustering(recommended, list(label_fields), list(clusterings))
    return {"rules": label_rules(allowed), "labelled": list(labelled),
            "clusterings": list(clusterings), "recommended": first,
            "recommendedFor": attribute,
            "project": text_hash("\n".join(sorted(clusterings)))}


def write_clustering(report, clustering, cards, assignments, scores, encoded, seed):
    """One clustering's page, its data script, its gallery chunks and the cards' thumbnails.

    Parameters
    ----------
    report : Report
    clustering : dict
        ``name`` (``model/variant/kK``), ``template`` (label template path), optional
        ``label_file`` (its file under ``labels:``: the page starts from it), ``sheets``
        (contact sheets folder), ``page`` (the HTML file to write).
    cards : DataFrame
        ``cards.tsv``.
    assignments : DataFrame
        ``paths, cluster, distance``.
    scores : DataFrame
        :func:`member_scores`; ``encoded``: :func:`encode_attributes`. Both in the row
        order of ``assignments``.
    seed : int
        draw_cards' seed.

    Returns
    -------
    dict
        The clustering's row of the index's table of clusterings.
    """
    name, stem = clustering["name"], Path(clustering["page"]).stem
    clusters = assignments["cluster"].to_numpy()
    shown = shown_members(assignments, cards, seed, scores)
    thumbs = write_thumbnails([tile[0] for rows in shown.values() for tiles in rows.values()
                               for tile in tiles], report.images_root, report.staging / "thumbs",
                              report.thumbs)
    about = summaries(clusters, encoded)
    data = {**report.common(), "clustering": name, "stem": stem,
            "target": marking_targets([clustering])[0],
            "templatePath": Path(clustering["template"]).as_posix(), "thumbOf": thumbs,
            "review": review_page_name(name) if name in report.labelling.get("labelled", ())
            else None,
            "chunks": f"{gallery_name(stem)}/", "chunkSize": CHUNK,
            "scores": f"{report.files_url}/data/scores.js",
            "suggestions": {a: v[:200] for a, v in about["suggestions"].items()},
            "clusters": []}
    for card in cards.itertuples(index=False):
        c = int(card.cluster)
        data["clusters"].append({
            "id": c, "size": int(card.size), "share": float(card.share),
            "meanDistance": _round([card.mean_distance])[0],
            "p90Distance": _round([card.p90_distance])[0],
            "nearest": [int(n) for n in str(card.nearest_clusters).split()],
            "sheet": _url(Path(clustering["sheets"]) / card.sheet, report.page_dir),
            "truth": {a: b[c] for a, b in about["truth"].items() if c in b},
            "truthOutliers": about["truthOutliers"].get(c),
            "labels": {a: b[c] for a, b in about["labels"].items() if c in b},
            "labelledOutliers": int(about["labelledOutliers"].get(c, 0)),
            "shown": shown.get(c, {})})
    (report.staging / "data" / f"{stem}.js").write_text(script_data("page", data),
                                                       encoding="utf-8")
    table_ = cards.drop(columns=["sheet"])
    for attribute, by_cluster in about["truth"].items():
        table_[f"{attribute} (truth)"] = [
            "{} {:.0%}".format(*by_cluster[c]["top"][0]) if c in by_cluster else ""
            for c in cards["cluster"]]
    write_text_atomic(clustering["page"], clustering_page(
        name, table_, f"{report.files_url}/data/{stem}.js"))
    model, variant, _ = parse_clustering_id(name)
    return {"clustering": name, "model": model, "pca": variant, "k": len(cards),
            "smallest_share": cards["share"].min(), "largest_share": cards["share"].max()}


def marking_targets(clusterings):
    """The clusterings whose label files a page outside them marks images in (map, outliers,
    review).

    Parameters
    ----------
    clusterings : list of dict
        ``name`` (``model/variant/kK``), ``template`` (label template path) and optional
        ``label_file`` (its file under ``labels:``).

    Returns
    -------
    list of dict
        ``name``, ``page``, ``file`` (the name a download gets: the base's), ``template``
        (its text: the fields of today's label_attributes) and ``base``
        (:func:`label_base`): a page starts from the edits this browser keeps on top of
        the base, else the base.
    """
    targets = []
    for c in clusterings:
        base = label_base(c["template"], c.get("label_file"))
        targets.append({"name": c["name"], "page": page_name(c["name"]),
                        "file": Path(base["source"]).name, "base": base,
                        "template": Path(c["template"]).read_text(encoding="utf-8")})
    return targets


# --- review pages -------------------------------------------------------------------

def _by_cluster(values, clusters):
    """(n,) object: each image's value of its cluster from ``values`` (cluster -> text)."""
    values = values or {}
    size = 1 + max(int(np.max(clusters, initial=0)), max(values, default=0))
    lookup = np.full(size, "", dtype=object)
    for cluster, text in values.items():
        lookup[cluster] = text
    return lookup[clusters]


def _why_none_least_sure(name, attribute, by_cluster, source, value):
    """The sentence a review page shows when no image's ``attribute`` comes from the
    clusters of ``name``: why. ``by_cluster``: its label file's values (cluster -> text);
    ``source``, ``value``: (n,) object, the labels' columns."""
    if not any((by_cluster or {}).values()):
        return f"{name}'s label file names no cluster's {attribute}."
    givers = [s.removesuffix(" (image)") for s in source[value != ""]]
    givers = [s for s in dict.fromkeys(givers) if s != name]
    if not givers:
        return (f"no image takes its {attribute} from {name}'s clusters (its images are "
                "marked bad or have values of their own).")
    return (f"every image's {attribute} comes from {' and '.join(givers)} (listed before "
            f"{name} under labels:, so it is taken first) or from an image's own value.")


def _why_no_disagreement(attribute, others):
    """The sentence a review page shows when no other labelled clustering (``others``, as
    :func:`review_lists` takes them) names an image's ``attribute`` otherwise: why."""
    naming = [other for other, other_file, _ in others
              if any((other_file.values.get(attribute) or {}).values())]
    if not naming:
        return f"no other labelled clustering names {attribute}."
    return (f"{' and '.join(naming)} name{'s' if len(naming) == 1 else ''} {attribute} as "
            "this clustering does wherever both name an image.")


def review_lists(name, label_file, clusters, labels, others, allowed, limit=REVIEW_LIMIT):
    """What a labelled clustering's review page lists, per attribute it names.

    Parameters
    ----------
    name : str
        The clustering (``model/variant/kK``).
    label_file : :class:`descluster.labels.LabelFile`
        Its label file, as propagation read it.
    clusters : ndarray of shape (n,), int
        Its cluster of each image.
    labels : DataFrame
        ``labels.parquet``, rows aligned.
    others : list of (str, LabelFile, ndarray)
        The other labelled clusterings: name, label file, cluster of each image.
    allowed : dict of str -> list of str
        Config ``label_values``.

    Returns
    -------
    list of dict
        Per attribute: ``attribute``; ``values`` (the keys' values: its ``label_values``,
        else the propagated values, most frequent first); ``low``: the images whose value
        comes from this clustering's clusters, least confident first; ``disagree``: the
        images this clustering's cluster and another labelled clustering's cluster name
        differently, least confident first. Each list (at most ``limit`` images) holds
        ``rows``, ``value`` (the propagated value), ``confidence``, ``cluster`` (here), and
        for ``disagree`` also ``clusterValue`` (what this clustering's cluster says),
        ``other`` (the other clustering) and ``otherValue`` (what its cluster says);
        ``why``: when the list is empty, a sentence saying why (else '').
        ``order``: the lists in the order to read them, the page opening on the first:
        the disagreements first when there are any (two labelled clusterings naming an
        image differently means at least one is wrong: measured in docs/review.md, they
        hold more of the errors than the least sure), else the least sure.
    """
    result = []
    for attribute, by_cluster in label_file.values.items():
        if attribute not in labels.columns:
            continue
        value = labels[attribute].fillna("").astype(str).to_numpy(dtype=object)
        conf = labels[f"{attribute}_confidence"].to_numpy(dtype=float)
        ranked = np.where(np.isnan(conf), np.inf, conf)  # the least sure first, unknown last
        source = labels[f"{attribute}_source"].to_numpy(dtype=object)
        mine = np.flatnonzero(source == name)
        low = mine[np.argsort(ranked[mine], kind="stable")][:limit]
        own = _by_cluster(by_cluster, clusters)
        other_name = np.full(len(clusters), "", dtype=object)
        other_value = np.full(len(clusters), "", dtype=object)
        for other, other_file, other_clusters in others:
            theirs = _by_cluster(other_file.values.get(attribute), other_clusters)
            differ = (own != "") & (theirs != "") & (own != theirs) & (other_name == "")
            other_name[differ], other_value[differ] = other, theirs[differ]
        differ = np.flatnonzero((other_name != "") & (value != ""))
        differ = differ[np.argsort(ranked[differ], kind="stable")][:limit]
        known = allowed.get(attribute) or _by_frequency(value)

        def listed(rows, why):
            return {"rows": rows.tolist(), "value": value[rows].tolist(),
                    "confidence": _round(conf[rows], 3),
                    "cluster": clusters[rows].astype(int).tolist(), "why": why if
                    not len(rows) else ""}

        why_low = _why_none_least_sure(name, attribute, by_cluster, source, value)
        why_disagree = _why_no_disagreement(attribute, others)
        result.append({"attribute": attribute, "values": list(known),
                       "low": listed(low, why_low),
                       "disagree": {**listed(differ, why_disagree),
                                    "clusterValue": own[differ].tolist(),
                                    "other": other_name[differ].tolist(),
                                    "otherValue": other_value[differ].tolist()},
                       "order": ["disagree", "low"] if len(differ) else ["low", "disagree"]})
    return result


def write_review(report, clustering, lists, paths, page):
    """A labelled clustering's review page and its data script, with thumbnails of each
    list's first page.

    Parameters
    ----------
    report : Report
    clustering : dict
        ``name``, ``template`` and ``label_file`` (see :func:`marking_targets`).
    lists : list of dict
        :func:`review_lists`.
    paths : ndarray of shape (n,), str
        Normalised image paths in row order.
    page : path
        The HTML file to write.
    """
    name, stem = clustering["name"], Path(review_page_name(clustering["name"])).stem
    first = [str(paths[row]) for entry in lists for kind in ("low", "disagree")
             for row in entry[kind]["rows"][:REVIEW_THUMBS]]
    thumbs = write_thumbnails(first, report.images_root, report.staging / "thumbs",
                              report.thumbs)
    data = {**report.common(), "clustering": name, "thumbOf": thumbs,
            "target": marking_targets([clustering])[0], "attributes": lists}
    (report.staging / "data" / f"{stem}.js").write_text(script_data("page", data),
                                                       encoding="utf-8")
    body = ["<p class=\"meta\">The images whose labels are the least sure, and those two "
            "labelled clusterings name differently: look at them first, fix each with one key "
            "(its value is written under 'images:' in this clustering's label file, kept in this "
            "browser until you download it).</p>",
            "<div id=\"toolbar\" class=\"toolbar\"></div>",
            "<p id=\"noscript\" class=\"meta\">Loading the review&hellip; (this page needs "
            "JavaScript and the folder files/ beside it)</p>",
            "<div id=\"review\"></div>"]
    write_text_atomic(page, _page(f"review of {name}", "\n".join(body),
                                  ("labelfile.js", "labelstate.js", "review.js"),
                                  f"{report.files_url}/data/{stem}.js"))


# --- outliers -----------------------------------------------------------------------

def write_outliers(report, scores, truth, summary, sheet_path, clusterings, page):
    """The outliers page and its data script: every flagged image, and the histogram of the
    combined score with the cut (:func:`score_histogram`; the cut, rate and rule from the
    combined row of ``summary``).

    Parameters
    ----------
    report : Report
    scores : DataFrame
        ``outliers.parquet``.
    clusterings : list of dict
        ``name`` and ``template`` of every clustering: the page marks images bad in their
        label files (:func:`marking_targets`).
    truth : DataFrame or None
        ``attributes.parquet``, same rows: its ``outlier`` column gives each image's kind.
    summary : DataFrame
        ``outliers.tsv``.
    page : path
        The HTML file to write.
    """
    kind = np.full(len(scores), "", dtype=object)
    if truth is not None and "outlier" in truth.columns:
        kind = aligned(truth, scores["paths"].to_numpy(), "attributes.parquet")["outlier"]
        kind = kind.fillna("").astype(str).to_numpy(dtype=object)
        kind = np.where(is_outlier_value(kind), kind, "")
    order = np.argsort(-scores["combined_score"].to_numpy(dtype=float), kind="stable")
    ranked = scores.iloc[order].assign(rank=np.arange(1, len(order) + 1), kind=kind[order])
    flagged = ranked[ranked["flag"].to_numpy(dtype=bool)]
    models = [c for c in scores.columns if c.startswith("score_")]
    thumbs = write_thumbnails(flagged["paths"].head(OUTLIER_THUMBS).tolist(),
                              report.images_root, report.staging / "thumbs", report.thumbs)
    rows = [[int(r), str(p), s, int(n), str(k), _round(m, 3)] for r, p, s, n, k, m in zip(
        flagged["rank"], flagged["paths"], _round(flagged["combined_score"], 3),
        flagged["n_models_flagging"], flagged["kind"], flagged[models].to_numpy(dtype=float))]
    cut = summary[(summary["scope"] == "combined") & (summary["kind"] == "all")].iloc[0]
    histogram = score_histogram(scores["combined_score"].to_numpy(dtype=float),
                                float(cut["threshold"]))
    data = {**report.common(), "models": [c.removeprefix("score_") for c in models],
            "thumbOf": thumbs, "rows": rows, "clusterings": marking_targets(clusterings),
            "histogram": {**histogram, "threshold": float(cut["threshold"]),
                          "rate": float(cut["rate"]), "cut": str(cut["cut"])}}
    (report.staging / "data").mkdir(exist_ok=True)
    (report.staging / "data" / "outliers.js").write_text(script_data("outliers", data),
                                                         encoding="utf-8")
    top = ranked.head(50)[["rank", "paths", *(["kind"] if truth is not None else []),
                           "n_models_flagging", "combined_score", *models]]
    write_text_atomic(page, outliers_page(summary, top, sheet_path, report.page_dir,
                                          f"{report.files_url}/data/outliers.js"))


def score_histogram(scores, threshold, n_bins=HISTOGRAM_BINS):
    """Counts of the combined outlier score in equal bins, for the outliers page.

    The bins run from the lowest score to a fifth beyond the larger of the flag cut and the
    99th percentile (at most to the highest score); the scores above (images in suspicious
    clusters, which add 10 each, and extreme ones) are counted apart, so that they do not
    squeeze the bulk of the images into a few bins.

    Parameters
    ----------
    scores : ndarray of shape (n,), float
        ``combined_score`` of ``outliers.parquet``.
    threshold : float
        The flag cut (``threshold`` of ``outliers.tsv``); always inside the bins' range.

    Returns
    -------
    dict
        ``low``, ``high`` (the range), ``counts`` (n_bins ints), ``above`` (scores above
        ``high``), ``n`` (all scores).
    """
    low = float(scores.min())
    top = max(float(np.quantile(scores, 0.99)), threshold)
    high = max(min(float(scores.max()), top + 0.2 * (top - low)), threshold)
    if high <= low:  # every score the same
        high = low + 1.0
    inside = scores <= high
    counts, _ = np.histogram(scores[inside], bins=n_bins, range=(low, high))
    return {"low": low, "high": high, "counts": counts.tolist(),
            "above": int((~inside).sum()), "n": len(scores)}


def outliers_page(summary, top, sheet_path, page_dir, data_file):
    """Outlier flags: the combined score's histogram with the cut, the precision/recall table,
    every flagged image (paged), the top-ranked table.

    Parameters
    ----------
    summary : DataFrame
        ``outliers.tsv``.
    top : DataFrame
        The highest-ranked rows of ``outliers.parquet``.
    data_file : str
        URL of the data script of all flagged images, relative to the page.
    """
    parts = ["<p class=\"meta\">Images ranked by their combined outlier score: first those in "
             "clusters labelled outlier or tiny (in more clusterings, higher), then by the mean "
             "of every model-variant's score (docs/outliers.md in the workflow's repository).</p>",
             "<h2>Combined score and the flag cut</h2>",
             # drawn by outliers.js; an <svg> in the page gives the script its namespace
             "<div id=\"histogram\"><svg class=\"histogram\" role=\"img\"></svg></div>",
             table(summary),
             "<h2>Every flagged image</h2>",
             "<div id=\"flagged\"></div>",
             "<h2>Top-ranked images, all scores</h2>", table(top),
             "<details><summary>Contact sheet of the top 30 (rows: ranks 1-10, 11-20, 21-30)"
             "</summary>", _image(sheet_path, page_dir, "top outliers"), "</details>"]
    return _page("outliers", "\n".join(parts), ("labelfile.js", "labelstate.js", "outliers.js"),
                 data_file)
