"""Steps of workflow/rules/map.smk: the 2-D layout of all images of one (model, variant)
(:mod:`descluster.layout`, label-independent, the expensive part), then its map page
(:mod:`descluster.map_page`)."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from descluster import labels, layout, map_page, site
from descluster.errors import InputError
from descluster.files import save_npy_atomic, write_text_atomic

log = logging.getLogger(__name__)


def layout_map(*, reduced_npy, seed, out_npy):
    """The layout of every row of a reduced matrix, saved as (n, 2) float32
    (:func:`descluster.layout.layout`)."""
    X = np.load(reduced_npy, mmap_mode="r")
    save_npy_atomic(out_npy, layout.layout(X, seed))
    log.info("layout: %d rows x %d columns, %d cells", X.shape[0], X.shape[1],
             layout.n_cells(X.shape[0]))


def draw_map(*, layout_npy, images_parquet, clusterings, targets, label_entries, allowed,
             attributes_parquet, outliers_parquet, labels_parquet, images_root, paths_script,
             model, variant, out_page, out_data):
    """Write the map page of one (model, variant) and its data script.

    Parameters
    ----------
    layout_npy : path
        (n, 2) float32 layout (:func:`layout_map`), rows of images.parquet.
    clusterings : list of dict
        Final clusterings of this model-variant, the map's colourings: ``name``
        (``model/variant/kK``) and ``assignments`` (Parquet).
    targets : list of dict
        Every final clustering, whose label files the page marks images in (through the
        browser storage of the clustering pages; the working clustering by default):
        ``name``, ``template`` (label template YAML) and ``label_file`` (its file under
        ``labels:``, or None).
    label_entries : list of dict
        Config ``labels`` (clustering, file, k, attributes): the legend names the clusters
        of a labelled clustering as its file does.
    allowed : dict of str -> list of str
        Config ``label_values``.
    attributes_parquet, labels_parquet : path or None
        Ground truth and propagated labels, when the config has them.
    images_root : path or None
        Folder of the original images: the page shows them on hover.
    paths_script : path
        The run's ``paths.js`` (:func:`descluster.site.write_paths_script`), which the
        page loads after its first paint.
    variant : str
        The variant's name (``pca150``, ``var0.9``).
    out_page, out_data : path
        The HTML page and its data script, both in results/report.
    """
    page_dir = Path(out_page).parent
    coords = np.load(layout_npy, mmap_mode="r")
    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"].to_numpy()
    if coords.ndim != 2 or coords.shape != (len(paths), 2):
        raise InputError(f"{layout_npy}: expected one (x, y) row per image of {images_parquet} "
                         f"({len(paths)} x 2), found {coords.shape}; rerun the workflow")
    x, y = map_page.quantise(coords)
    listed = {e["clustering"]: e for e in label_entries}
    named = []
    for clustering in clusterings:
        frame = site.aligned(pd.read_parquet(clustering["assignments"],
                                             columns=["paths", "cluster"]),
                             paths, clustering["assignments"])
        entry, names = listed.get(clustering["name"]), None
        if entry:
            label_file = labels.read_label_file(entry["file"], entry["clustering"], entry["k"],
                                                entry.get("attributes"), allowed)
            names = labels.cluster_names(label_file, entry["k"])
        named.append((clustering["name"], frame["cluster"].to_numpy(), names))
    truth = (site.aligned(pd.read_parquet(attributes_parquet), paths, attributes_parquet)
             if attributes_parquet else None)
    propagated = (site.aligned_labels(pd.read_parquet(labels_parquet), len(paths), labels_parquet)
                  if labels_parquet else None)
    outliers = site.aligned(pd.read_parquet(outliers_parquet), paths, outliers_parquet)
    report = site.Report(page_dir, page_dir / site.FILES, page_dir / site.FILES, images_root,
                         paths_script, site.labelling_context(
                             [t["name"] for t in targets], list(listed), allowed))
    data = {**report.common(), "thumbOf": {}, "model": model, "pca": variant, "n": len(paths),
            "x": site.pack(x, np.uint16), "y": site.pack(y, np.uint16),
            "colourings": map_page.colourings(named, truth, outliers, propagated,
                                              f"score_{model}_{variant}"),
            "clusterings": site.marking_targets(targets)}
    write_text_atomic(out_data, site.script_data("page", data))
    write_text_atomic(out_page, map_page.map_page(model, variant, site._url(out_data, page_dir)))
    log.info("map: %d images, %d colourings, data %.1f MB", len(paths),
             len(data["colourings"]), Path(out_data).stat().st_size / 1e6)
