"""A static HTML browser of the results: opens from disk, no server, no external assets."""

import html
import os
from pathlib import Path

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.2em auto;max-width:1180px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:2px 7px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd}.card{margin:1em 0 1.6em}
.meta{font-size:.9em;color:#444}nav a{margin-right:1em}.warn{background:#fee;padding:.5em;display:none}
"""
# Marks the page when any picture fails to load, so missing files are seen, not hidden.
_SCRIPT = """
window.addEventListener('load', function () {
  var broken = Array.prototype.filter.call(document.images, function (im) {
    return !im.complete || im.naturalWidth === 0; });
  document.body.setAttribute('data-broken-images', String(broken.length));
  if (broken.length) {
    var warn = document.getElementById('broken');
    warn.style.display = 'block';
    warn.textContent = broken.length + ' picture(s) could not be loaded: has results/ been moved?';
    broken.forEach(function (im) { console.error('missing picture: ' + im.src); });
  }
});
"""


def _page(title, body):
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>"
            f"<nav><a href=\"index.html\">index</a><a href=\"outliers.html\">outliers</a></nav>"
            f"<p id=\"broken\" class=\"warn\"></p>\n<h1>{html.escape(title)}</h1>\n{body}\n"
            f"<script>{_SCRIPT}</script></body></html>\n")


def table(frame, links=None):
    """An HTML table of a DataFrame; ``links`` maps a column to a function value -> href."""
    links = links or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
            text = html.escape("" if text == "nan" else text)
            if column in links:
                text = f"<a href=\"{html.escape(links[column](value))}\">{text}</a>"
            cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _image(path, page_dir, alt):
    src = Path(os.path.relpath(path, page_dir)).as_posix()
    return f"<img src=\"{html.escape(src)}\" alt=\"{html.escape(alt)}\" loading=\"lazy\">"


def page_name(clustering):
    """File name of a clustering's page: 'osnet/pca150/k30' -> 'osnet_pca150_k30.html'."""
    return clustering.replace("/", "_") + ".html"


def index_page(models, clusterings, tables, figures, page_dir):
    """The index: per model its PCA and k-scan figures and digest; summary tables.

    Parameters
    ----------
    models : list of str
    clusterings : list of str
        Clustering names (``model/pca/kK``) with pages.
    tables : dict
        DataFrames: ``models`` (model -> digest), optional ``ranking``, ``validation``,
        ``labels``, ``outliers``.
    figures : dict
        Paths: ``pca`` and ``kscan`` (model -> PNG), ``agreement``.
    """
    parts = ["<p class=\"meta\">Clusterings of image descriptors. A card per cluster on each "
             "clustering's page; fill in the label templates in results/labels/templates/.</p>"]
    if "ranking" in tables:
        parts += ["<h2>Which model tells what (best ARI per attribute)</h2>",
                  table(tables["ranking"])]
    for model in models:
        digest = tables["models"][model]
        parts += [f"<h2 id=\"{html.escape(model)}\">{html.escape(model)}</h2>",
                  table(digest),
                  _image(figures["pca"][model], page_dir, f"{model} explained variance"),
                  _image(figures["kscan"][model], page_dir, f"{model} k-scan")]
        mine = [c for c in clusterings if c.split("/")[0] == model]
        if mine:
            parts.append("<p>Clusterings: " + " ".join(
                f"<a href=\"{page_name(c)}\">{html.escape(c)}</a>" for c in mine) + "</p>")
    parts += ["<h2>Agreement between clusterings</h2>",
              _image(figures["agreement"], page_dir, "agreement heatmap")]
    if "labels" in tables:
        parts += ["<h2>Propagated labels</h2>", table(tables["labels"])]
    if "validation" in tables:
        parts += ["<h2>Validation against ground truth</h2>", table(tables["validation"])]
    return _page("descluster results", "\n".join(parts))


def clustering_page(clustering, cards, sheets_dir, template_path, page_dir):
    """All cluster cards of one clustering.

    Parameters
    ----------
    cards : DataFrame
        ``cards.tsv`` of the clustering.
    """
    parts = [f"<p class=\"meta\">Label template: {html.escape(str(template_path))}. "
             "Rows of each sheet: nearest the centroid, random members, farthest (the "
             "boundary).</p>",
             table(cards.drop(columns=["sheet"]), {"cluster": lambda c: f"#cluster-{c}"})]
    for card in cards.itertuples(index=False):
        nearest = " ".join(f"<a href=\"#cluster-{n}\">{n}</a>"
                           for n in str(card.nearest_clusters).split())
        parts.append(
            f"<div class=\"card\" id=\"cluster-{card.cluster}\"><h2>cluster {card.cluster}</h2>"
            f"<p class=\"meta\">{card.size} images ({card.share:.1%}); distance to centroid: "
            f"mean {card.mean_distance:.3g}, 90th percentile {card.p90_distance:.3g}; "
            f"nearest clusters: {nearest}</p>"
            + _image(Path(sheets_dir) / card.sheet, page_dir, f"cluster {card.cluster}")
            + "</div>")
    return _page(clustering, "\n".join(parts))


def outliers_page(summary, top, sheet_path, page_dir):
    """Outlier flags: precision/recall table, the top-30 sheet and the top-ranked images.

    Parameters
    ----------
    summary : DataFrame
        ``outliers.tsv``.
    top : DataFrame
        The highest-ranked rows of ``outliers.parquet``.
    """
    parts = ["<p class=\"meta\">Images ranked by how many models flag them, then by their mean "
             "score rank. Sheet rows: ranks 1-10, 11-20, 21-30.</p>",
             table(summary), _image(sheet_path, page_dir, "top outliers"),
             "<h2>Top-ranked images</h2>", table(top)]
    return _page("outliers", "\n".join(parts))
