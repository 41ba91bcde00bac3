"""Steps of workflow/rules/site.smk: the offline HTML browser under results/report/ (see
:mod:`descluster.site`)."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from descluster import gallery, site
from descluster.files import atomic_directory, write_text_atomic

log = logging.getLogger(__name__)


def write_paths(*, images_parquet, images_root, out_script):
    """The run's ``paths.js``: every image path, front-coded, for the pages to look up by
    row, and the rows whose original the pages must not show: each original is checked as
    the workflow reads pictures (:func:`descluster.gallery.original_problem`; no
    ``images_root``: the pages show no original, nothing to check)."""
    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    problems = ([gallery.original_problem(images_root, path) for path in paths]
                if images_root else [])
    refused = np.flatnonzero([problem is not None for problem in problems])
    for reason, count in pd.Series([p for p in problems if p], dtype=object).value_counts().items():
        log.warning("paths: %d original(s) the pages will not show: %s", count, reason)
    site.write_paths_script(paths, refused, out_script)
    log.info("paths: %d images, %d originals refused, %.1f MB", len(paths), len(refused),
             Path(out_script).stat().st_size / 1e6)


def write_gallery(*, assignments_parquet, page_stem, out_folder):
    """Every member of every cluster of one clustering, nearest first, as the browser's
    gallery chunks (:func:`descluster.site.write_gallery`). Label-independent: a label
    edit does not rewrite them."""
    with atomic_directory(out_folder) as staging:
        # rows and distances only: the pages take paths from paths.js
        site.write_gallery(pd.read_parquet(assignments_parquet, columns=["cluster", "distance"]),
                           page_stem, staging)


def build_site(*, models, clusterings, digests, figures, outlier_files, optional_tables,
               ground_truth, propagated, images_root, paths_script, seed, label_entries,
               label_fields, allowed, out_index, out_pages, out_outliers, out_reviews, out_files):
    """Write the offline HTML browser (see :mod:`descluster.site`).

    Parameters
    ----------
    clusterings : list of dict
        name (``model/variant/kK``), cards (TSV), sheets (folder), template (YAML path),
        assignments (Parquet).
    digests : dict of str -> path
        Model -> ``results/summary/models/{model}.tsv``.
    figures : dict
        ``pca`` and ``kscan`` (model -> PNG) and ``agreement`` (PNG).
    outlier_files : dict
        ``summary`` (TSV), ``scores`` (Parquet), ``sheet`` (JPEG).
    optional_tables : dict of str -> path or None
        ``ranking``, ``validation``, ``recommended``, ``labels``, ``suggested``, ``effort``
        (labelling_effort.tsv), ``accuracy`` (label_accuracy.tsv) TSVs when they exist.
    ground_truth, propagated : path or None
        ``attributes.parquet`` and ``labels.parquet``: the cards show their breakdowns.
    images_root : path or None
        The cards' thumbnails are read from here; the pages link the originals.
    paths_script : path
        The run's ``paths.js``, which the galleries look their members' paths up in.
    seed : int
        draw_cards' seed: the cards show the members of its contact sheets.
    label_entries : list of dict
        Config ``labels`` in order: clustering, file, k, attributes (or None). Each page
        of a listed clustering starts from its file; each gets a review page.
    label_fields : list of str
        Config ``label_attributes``.
    allowed : dict of str -> list of str
        Config ``label_values``.
    out_pages : list of path
        One page per clustering, aligned with ``clusterings``.
    out_reviews : list of path
        One review page per entry of ``label_entries``, aligned.
    out_files : path
        Folder of the pages' scripts, styles, data scripts and thumbnails.
    """
    from descluster.labels import read_label_file

    page_dir = Path(out_index).parent
    tables = {"models": {m: pd.read_csv(digests[m], sep="\t") for m in models}}
    tables.update({name: pd.read_csv(path, sep="\t")
                   for name, path in optional_tables.items() if path})
    scores = pd.read_parquet(outlier_files["scores"])
    truth = pd.read_parquet(ground_truth) if ground_truth else None
    labels = pd.read_parquet(propagated) if propagated else None
    listed = {e["clustering"]: e["file"] for e in label_entries}
    clusterings = [{**c, "label_file": listed.get(c["name"])} for c in clusterings]
    overview, clusters_of = [], {}
    labelling = site.labelling_context([c["name"] for c in clusterings], list(listed), allowed,
                                       tables.get("recommended"), label_fields)
    with atomic_directory(out_files) as staging:
        report = site.Report(page_dir, Path(out_files), staging, images_root, Path(paths_script),
                             labelling)
        site.copy_assets(staging / "assets")
        (staging / "thumbs").mkdir()
        (staging / "data").mkdir()
        site.write_scores(scores, staging / "data")
        images = members = encoded = None  # checked and encoded once for every clustering
        for clustering, out_page in zip(clusterings, out_pages):
            assignments = pd.read_parquet(clustering["assignments"])
            paths = assignments["paths"].to_numpy()
            if images is None:
                images, members = paths, site.member_scores(scores, paths, "outliers.parquet")
                encoded = site.encode_attributes(
                    None if truth is None else site.aligned(truth, paths, ground_truth),
                    None if labels is None else site.aligned_labels(labels, len(paths),
                                                                    propagated))
            site.check_rows(paths, images, clustering["assignments"])
            if clustering["name"] in listed:
                clusters_of[clustering["name"]] = assignments["cluster"].to_numpy()
            overview.append(site.write_clustering(
                report, {**clustering, "page": out_page},
                pd.read_csv(clustering["cards"], sep="\t"), assignments, members, encoded, seed))
        site.write_outliers(report, scores, truth, pd.read_csv(outlier_files["summary"], sep="\t"),
                            outlier_files["sheet"], clusterings, out_outliers)
        if label_entries:
            labels = site.aligned_labels(labels, len(scores), propagated)
            files = {e["clustering"]: read_label_file(e["file"], e["clustering"], e["k"],
                                                      e.get("attributes"), allowed)
                     for e in label_entries}
            by_name = {c["name"]: c for c in clusterings}
            for entry, out_review in zip(label_entries, out_reviews):
                name = entry["clustering"]
                others = [(o, files[o], clusters_of[o]) for o in files if o != name]
                lists = site.review_lists(name, files[name], clusters_of[name], labels, others,
                                          allowed)
                site.write_review(report, by_name[name], lists, scores["paths"].to_numpy(),
                                  out_review)
    write_text_atomic(out_index, site.index_page(models, pd.DataFrame(overview), tables, figures,
                                                 page_dir, label_fields, list(listed)))
    log.info("site: %d clustering pages, %d review pages in %s", len(out_pages),
             len(out_reviews), page_dir)
