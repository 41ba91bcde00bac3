"""One function per workflow step: plain paths and parameters in, output files out.

Scripts in ``scripts/`` only map Snakemake's inputs, outputs and params onto these.
"""

import logging
from pathlib import Path

import numpy as np

from descluster.config import variant_name
from descluster.errors import InputError
from descluster.files import (atomic_directory, atomic_output, save_npy_atomic, write_rows,
                              write_table, write_text_atomic)

# Heavy libraries (pandas, pyarrow, matplotlib, scikit-learn) are imported inside the
# steps that use them: the k-scan runs hundreds of short jobs, each a new process.

log = logging.getLogger(__name__)


# --- demo -------------------------------------------------------------------------

def make_demo(descriptor_paths, paths_csv, vehicle_info_txt, attributes_csv, images_dir, n_images,
              seed, thumbnails):
    """Write the demo dataset.

    Parameters
    ----------
    descriptor_paths : dict of str -> path
        One pickle per demo model (keys of :data:`descluster.demo.MODEL_DIMS`).
    vehicle_info_txt, attributes_csv : path
        Ground truth, see :func:`descluster.demo.write_ground_truth`.
    images_dir : path
        Folder of the thumbnails (created empty when ``thumbnails`` is false).
    """
    from descluster import demo

    attributes = demo.make_attributes(n_images, seed)
    for model, path in descriptor_paths.items():
        demo.write_pickle(demo.make_descriptors(attributes, model, seed), path)
    write_table(attributes[["paths"]], paths_csv, sep=",")
    demo.write_ground_truth(attributes, vehicle_info_txt, attributes_csv)
    with atomic_directory(images_dir) as staging:
        if thumbnails:
            demo.write_thumbnails(attributes, staging, seed)
    log.info("demo: %d images, %d models", n_images, len(descriptor_paths))


# --- ingest -----------------------------------------------------------------------

def ingest_paths(paths_csv, out_parquet):
    """Check the paths file and write ``row``, ``paths`` (normalised), ``path_original``."""
    from descluster import ingest

    table = ingest.read_paths_table(paths_csv)
    table = table[["paths", "path_original"]]
    table.insert(0, "row", np.arange(len(table), dtype=np.int64))
    with atomic_output(out_parquet) as tmp:
        table.to_parquet(tmp, index=False)
    log.info("ingest: %d image paths from %s", len(table), paths_csv)


def ingest_descriptors(descriptor_path, images_parquet, out_parquet):
    """Load a descriptor file safely, check it against the paths, write it as Parquet."""
    import pandas as pd

    from descluster import ingest
    from descluster.files import load_descriptor_array, load_descriptor_paths

    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    array = load_descriptor_array(descriptor_path)
    log.info("ingest: %s holds %s %s", descriptor_path, array.shape, array.dtype)
    ingest.check_descriptor_array(array, str(descriptor_path), len(paths))
    order = ingest.match_rows(load_descriptor_paths(descriptor_path), paths, str(descriptor_path))
    ingest.write_descriptor_parquet(array, paths, out_parquet, row_order=order)


def ingest_attributes(files, images_parquet, veriwild_columns, out_parquet, out_codes,
                      out_matches):
    """Align the ground-truth files with the images.

    Parameters
    ----------
    files : list of (path, format)
        format ``csv`` or ``veriwild`` (see :func:`descluster.attributes.align_attributes`).

    Outputs: ``attributes.parquet`` (``paths`` in image row order, then one string column
    per attribute, '' = unknown), ``attribute_codes.npz`` (the attributes as integer codes,
    :func:`descluster.attributes.save_attribute_codes`) and ``attributes_match.tsv`` (how
    each file matched).
    """
    import pandas as pd

    from descluster import attributes

    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    aligned, matches = attributes.align_attributes(paths, files, veriwild_columns)
    with atomic_output(out_parquet) as tmp:
        aligned.to_parquet(tmp, index=False)
    attributes.save_attribute_codes(*attributes.attribute_codes(aligned), out_codes)
    write_table(matches, out_matches)


# --- PCA --------------------------------------------------------------------------

def fit_pca(descriptors_parquet, variants, method, batch_rows, model, out_fit, out_curve,
            out_variants, out_plot):
    """Fit one model's PCA once, at its largest variant, and resolve every variant.

    Outputs: the fit (.npz), the explained-variance curve (TSV and PNG) and
    ``variants.tsv`` (pca, variant, n_components, explained_variance).
    """
    import pandas as pd

    from descluster import ingest, pca, plots

    n_rows, n_cols = ingest.descriptor_shape(descriptors_parquet)
    pca.check_variants(variants, n_rows, n_cols, f"config key 'pca.{model}'")
    n_keep = pca.components_to_fit(variants, n_rows, n_cols, batch_rows, method)
    batches = ingest.iter_descriptor_batches(descriptors_parquet, batch_rows)
    log.info("pca: %s, %d x %d, method %s, keeping %d components", model, n_rows, n_cols,
             method, n_keep)
    fit_method = pca.fit_covariance_pca if method == "covariance" else pca.fit_incremental_pca
    try:
        fit = fit_method(batches, n_keep)
    except InputError as exc:
        raise InputError(f"{descriptors_parquet}: {exc}") from None
    ratio = fit.explained_variance_ratio
    resolved = []
    for variant in variants:
        try:
            n = pca.resolve_variant(variant, fit)
        except InputError as exc:
            raise InputError(f"config key 'pca.{model}': {exc}") from None
        resolved.append({"pca": variant_name(variant), "variant": variant, "n_components": n,
                         "explained_variance": float(ratio[:n].sum())})
    n_used = max(r["n_components"] for r in resolved)
    fit.components = fit.components[:n_used]
    pca.save_fit(fit, out_fit)
    write_table(pd.DataFrame({
        "component": np.arange(1, len(ratio) + 1),
        "explained_variance": fit.explained_variance,
        "explained_variance_ratio": ratio,
        "cumulative": np.cumsum(ratio),
    }), out_curve)
    write_table(pd.DataFrame(resolved), out_variants)
    plots.plot_explained_variance(ratio, [(r["pca"], r["n_components"]) for r in resolved],
                                  model, out_plot)
    for r in resolved:
        log.info("pca: %s %s -> %d components, %.1f %% variance", model, r["pca"],
                 r["n_components"], 100 * r["explained_variance"])


def reduce_pca(descriptors_parquet, fit_path, variants_tsv, variant, batch_rows, out_npy):
    """Project every row on a variant's components: ``out_npy`` is (n, n_components) float32."""
    import pandas as pd

    from descluster import ingest, pca

    fit = pca.load_fit(fit_path)
    table = pd.read_csv(variants_tsv, sep="\t")
    n_components = int(table.loc[table["pca"] == variant, "n_components"].iloc[0])
    n_rows, _ = ingest.descriptor_shape(descriptors_parquet)
    with atomic_output(out_npy) as tmp:
        reduced = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                            shape=(n_rows, n_components))
        start = 0
        for block in pca.transform_batches(
                ingest.iter_descriptor_batches(descriptors_parquet, batch_rows), fit, n_components):
            reduced[start:start + len(block)] = block
            start += len(block)
        reduced.flush()
        del reduced
    log.info("pca: reduced %d rows to %d components (%s)", n_rows, n_components, variant)


# --- k-scan -----------------------------------------------------------------------

KSCAN_COLUMNS = ["model", "pca", "n_components", "k", "inertia", "calinski_harabasz",
                 "davies_bouldin", "silhouette", "n_iter"]
PURITY_PREFIX = "purity_"


def scan_k(reduced_npy, model, variant, k, seed, n_init, max_iter, rows_per_cluster, min_rows,
           silhouette_sample, out_tsv, out_centroids, attribute_codes=None):
    """One k of the k-scan: fit KMeans on a sample, assign all rows, score; one TSV row.

    The sample holds ``rows_per_cluster * k`` rows, at least ``min_rows`` (0 = all rows).
    Outputs: the row (:data:`KSCAN_COLUMNS`, then ``purity_{attribute}`` per ground-truth
    attribute when ``attribute_codes``, the .npz of ingest_attributes, is given) and the
    centroids, (k, p) float32, from which the final clustering at this k starts one of its
    runs.
    """
    from descluster import clustering, evaluate

    X = np.load(reduced_npy, mmap_mode="r")
    fit_rows = clustering.scan_fit_rows(k, rows_per_cluster, min_rows)
    fit = clustering.fit_kmeans(X, k, seed, n_init, max_iter, fit_rows)
    _warn_about_fit(fit, f"{model} {variant} k={k} (k-scan)", max_iter)
    labels, distances = clustering.assign(X, fit.centroids)
    scores = clustering.validity_scores(X, labels, distances, seed, silhouette_sample)
    row = {"model": model, "pca": variant, "n_components": X.shape[1], "k": k, **scores,
           "n_iter": fit.n_iter}
    columns = list(KSCAN_COLUMNS)
    if attribute_codes:
        from descluster.attributes import load_attribute_codes

        codes, _ = load_attribute_codes(attribute_codes)
        for attribute, value in evaluate.purity_by_attribute(labels, codes).items():
            row[PURITY_PREFIX + attribute] = value
            columns.append(PURITY_PREFIX + attribute)
    save_npy_atomic(out_centroids, fit.centroids)
    write_rows([row], columns, out_tsv)
    log.info("kscan: %s %s k=%d %s", model, variant, k,
             ", ".join(f"{key} {value:.4g}" for key, value in scores.items()))


def _warn_about_fit(fit, what, max_iter):
    """Log what a user should know of a KMeans fit: no convergence, empty clusters."""
    if not fit.converged:
        log.warning("kmeans: %s stopped at max_iter = %d without converging; raise "
                    "clustering.max_iter for a tighter fit", what, max_iter)
    if fit.empty_clusters:
        log.warning("kmeans: %s: cluster(s) %s are empty: the data has fewer distinct rows "
                    "than k; lower k", what, " ".join(map(str, fit.empty_clusters)))


def summarize_kscan(row_tsvs, out_scan, out_suggested, out_effort):
    """Gather k-scan rows (sorted by model, pca, k), the suggested k per variant and the
    labelling effort (purity per scanned k and attribute: ``model, pca, k, attribute,
    purity``; no rows without ground truth)."""
    import pandas as pd

    from descluster import clustering

    scan = pd.concat([pd.read_csv(p, sep="\t") for p in row_tsvs], ignore_index=True)
    scan = scan.sort_values(["model", "pca", "k"], kind="stable").reset_index(drop=True)
    write_table(scan[KSCAN_COLUMNS], out_scan)
    write_table(clustering.suggest_k(scan), out_suggested)
    purity = [c for c in scan.columns if c.startswith(PURITY_PREFIX)]
    effort = scan.melt(id_vars=["model", "pca", "k"], value_vars=purity, var_name="attribute",
                       value_name="purity")
    effort["attribute"] = effort["attribute"].str.removeprefix(PURITY_PREFIX)
    effort = effort.sort_values(["model", "pca", "attribute", "k"], kind="stable")
    write_table(effort[["model", "pca", "k", "attribute", "purity"]], out_effort)


def concat_tables(tsvs, out_tsv):
    """Concatenate TSV tables with the same columns, in the order given."""
    import pandas as pd

    write_table(pd.concat([pd.read_csv(p, sep="\t") for p in tsvs], ignore_index=True), out_tsv)


def plot_kscan(scan_tsv, suggested_tsv, model, out_png, final_ks=()):
    """The k-scan figure of one model, the configured final k values marked."""
    import pandas as pd

    from descluster import plots

    plots.plot_kscan(pd.read_csv(scan_tsv, sep="\t"),
                     pd.read_csv(suggested_tsv, sep="\t", keep_default_na=False), model,
                     out_png, final_ks)


def plot_labelling_effort(effort_tsv, model, out_png, final_ks=()):
    """Purity against k per attribute and variant: what naming k clusters buys."""
    import pandas as pd

    from descluster import plots

    plots.plot_labelling_effort(pd.read_csv(effort_tsv, sep="\t"), model, out_png, final_ks)


# --- final clusterings ------------------------------------------------------------

FIT_COLUMNS = ["model", "pca", "k", "inertia", "n_iter", "converged", "start", "kscan_inertia"]


def cluster_kmeans(reduced_npy, images_parquet, model, variant, k, seed, n_init, max_iter,
                   out_assignments, out_centroids, out_sizes, out_fit, scan_centroids=None):
    """A final KMeans clustering on all rows.

    ``n_init`` runs on all rows: when the k-scan covered this k, one of them starts from
    its centroids (``scan_centroids``), which are also a candidate as they are; the
    others from k-means++. The best by inertia is kept, so the final inertia is never
    above the k-scan's.

    Outputs: ``assignments.parquet`` (paths, cluster int32, distance float32; schema
    metadata model, pca, n_components, k), ``centroids.npy`` (k, n_components) float32,
    ``sizes.tsv`` (cluster, size, share, mean_distance, p90_distance) and ``fit.tsv``
    (:data:`FIT_COLUMNS`).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from descluster import clustering

    X = np.load(reduced_npy, mmap_mode="r")
    init = [np.load(scan_centroids)] if scan_centroids else []
    fit = clustering.fit_kmeans(X, k, seed, n_init, max_iter, fit_sample=0, init=init)
    _warn_about_fit(fit, f"{model} {variant} k={k}", max_iter)
    labels, distances = clustering.assign(X, fit.centroids)
    paths = pq.read_table(images_parquet, columns=["paths"]).column("paths")
    metadata = {"model": model, "pca": variant, "n_components": str(X.shape[1]), "k": str(k)}
    table = pa.table({"paths": paths, "cluster": labels, "distance": distances})
    table = table.replace_schema_metadata({f"descluster.{key}": value for key, value in metadata.items()})
    with atomic_output(out_assignments) as tmp:
        pq.write_table(table, tmp)
    save_npy_atomic(out_centroids, fit.centroids)
    sizes = cluster_sizes(labels, distances, k)
    write_table(sizes, out_sizes)
    scan_inertia = clustering.inertia(X, init[0]) if init else None
    write_rows([{"model": model, "pca": variant, "k": k, "inertia": fit.inertia,
                 "n_iter": fit.n_iter, "converged": fit.converged,
                 "start": "k-scan centroids" if fit.start == "given" else fit.start,
                 "kscan_inertia": scan_inertia}], FIT_COLUMNS, out_fit)
    log.info("kmeans: %s %s k=%d, inertia %.6g (k-scan %s) from %s, %d iterations, cluster "
             "sizes %d..%d", model, variant, k, fit.inertia,
             "-" if scan_inertia is None else f"{scan_inertia:.6g}", fit.start, fit.n_iter,
             sizes["size"].min(), sizes["size"].max())


def cluster_sizes(labels, distances, k):
    """Per cluster: size, share of all rows, mean and 90th-percentile distance to the centroid."""
    import pandas as pd

    frame = pd.DataFrame({"cluster": labels, "distance": distances.astype(np.float64)})
    grouped = frame.groupby("cluster")["distance"]
    sizes = pd.DataFrame({"cluster": np.arange(k)})
    sizes["size"] = np.bincount(labels, minlength=k)
    sizes["share"] = sizes["size"] / len(labels)
    sizes["mean_distance"] = sizes["cluster"].map(grouped.mean())
    sizes["p90_distance"] = sizes["cluster"].map(grouped.quantile(0.9))
    return sizes


def clustering_metadata(assignments_parquet):
    """model, pca, n_components and k of an assignments file, from its schema metadata."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(assignments_parquet).metadata
    values = {key.decode().removeprefix("descluster."): value.decode()
              for key, value in metadata.items() if key.startswith(b"descluster.")}
    return {"model": values["model"], "pca": values["pca"],
            "n_components": int(values["n_components"]), "k": int(values["k"])}


# --- validation -------------------------------------------------------------------

VALIDATION_COLUMNS = ["model", "pca", "n_components", "k", "attribute", "n_labelled", "ari",
                      "nmi", "v_measure", "purity"]


def validate_clusterings(assignment_parquets, attribute_codes, out_validation, out_ranking):
    """Score every final clustering against every ground-truth attribute; rank models."""
    import pandas as pd

    from descluster import evaluate
    from descluster.attributes import load_attribute_codes

    codes, _ = load_attribute_codes(attribute_codes)
    if not codes:
        raise InputError("the ground truth has no attribute with two or more known values "
                         "for the clustered images (see results/ingest/attributes_match.tsv)")
    rows = []
    for path in assignment_parquets:
        meta = clustering_metadata(path)
        labels = pd.read_parquet(path, columns=["cluster"])["cluster"].to_numpy()
        for scores in evaluate.validate_clustering(labels, codes):
            rows.append({**meta, **scores})
    validation = pd.DataFrame(rows, columns=VALIDATION_COLUMNS)
    write_table(validation, out_validation)
    write_table(evaluate.rank_models(validation), out_ranking)


# --- per-model digest -------------------------------------------------------------

def summarize_model(variants_tsv, suggested_tsv, sizes_tsvs, final_clusterings, model, out_tsv):
    """One table per model: each variant's components and variance, suggested k, final clusterings.

    Parameters
    ----------
    sizes_tsvs : list of path
        ``sizes.tsv`` of each final clustering, aligned with ``final_clusterings``.
    final_clusterings : list of (str, int)
        (pca, k) of each final clustering.
    """
    import pandas as pd

    variants = pd.read_csv(variants_tsv, sep="\t")
    suggested = pd.read_csv(suggested_tsv, sep="\t")[["pca", "suggested_k"]]
    digest = variants[["pca", "n_components", "explained_variance"]].merge(suggested, on="pca")
    finals = pd.DataFrame([
        {"pca": variant, "k": k, "smallest_cluster": int(sizes["size"].min()),
         "largest_cluster": int(sizes["size"].max())}
        for (variant, k), sizes in zip(final_clusterings,
                                       (pd.read_csv(p, sep="\t") for p in sizes_tsvs))
    ], columns=["pca", "k", "smallest_cluster", "largest_cluster"])
    digest = digest.merge(finals, on="pca", how="left")
    digest.insert(0, "model", model)
    write_table(digest, out_tsv)


# --- cluster cards ------------------------------------------------------------------

CARD_COLUMNS = ["cluster", "size", "share", "mean_distance", "p90_distance", "nearest_clusters",
                "sheet", "placeholders"]


def draw_cards(assignments_parquet, centroids_npy, sizes_tsv, images_root, seed, out_cards,
               out_sheets):
    """A card per cluster: its statistics, nearest clusters and a contact sheet.

    Only the sampled images are read: 30 per cluster whatever the dataset size.
    Outputs: ``cards.tsv`` (:data:`CARD_COLUMNS`; ``nearest_clusters`` space-separated,
    ``sheet`` the file name in ``out_sheets``, ``placeholders`` how many tiles could not
    be read) and the folder ``out_sheets`` of ``cluster{c:03d}.jpg`` contact sheets.
    """
    import pandas as pd

    from descluster import gallery

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


# --- labels -------------------------------------------------------------------------

def make_label_template(sizes_tsv, model, pca, k, label_attributes, out_yaml,
                        attributes_parquet=None):
    """The label template of one clustering (see :func:`descluster.labels.template`).

    Its fields are the ground truth's attributes when ``attributes_parquet`` is given
    (a person can then check the workflow on attributes they know), else ``label_attributes``.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    from descluster import labels
    from descluster.attributes import NOT_ATTRIBUTES

    fields = list(label_attributes)
    if attributes_parquet:
        fields = [c for c in pq.read_schema(attributes_parquet).names if c not in NOT_ATTRIBUTES]
    write_text_atomic(out_yaml, labels.template(model, pca, k, pd.read_csv(sizes_tsv, sep="\t"),
                                                fields))


def _labelled_sources(entries, allowed):
    """Read every configured label file with its clustering, in config order."""
    import pandas as pd

    from descluster import labels

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


def propagate_labels(entries, images_parquet, outliers_parquet, allowed, out_labels, out_summary,
                     out_accuracy, attributes_parquet=None):
    """Labels for every image from the labelled clusterings, with its outlier score.

    Parameters
    ----------
    entries : list of dict
        In config order: clustering, file, attributes (or None), k, assignments,
        centroids, reduced.
    allowed : dict of str -> list of str
        Config ``label_values``.

    Outputs: ``labels.parquet`` (paths; per attribute its value, ``_source`` and
    ``_confidence``; ``labelled_outlier``, ``outlier_score``, ``outlier_flag``),
    ``labels.tsv`` (per attribute: labelled, coverage, image_entries, conflicts, sources)
    and ``label_accuracy.tsv`` (against the ground truth; no rows without it).
    """
    import pandas as pd

    from descluster import labels

    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    sources = _labelled_sources(entries, allowed)
    columns, summary = labels.propagate(paths.to_numpy(dtype=object), sources)
    scores = pd.read_parquet(outliers_parquet, columns=["combined_score", "flag"])
    frame = pd.DataFrame({"paths": paths, **columns,
                          "outlier_score": scores["combined_score"].to_numpy(),
                          "outlier_flag": scores["flag"].to_numpy()})
    with atomic_output(out_labels) as tmp:
        frame.to_parquet(tmp, index=False)
    write_table(pd.DataFrame(summary, columns=["attribute", "labelled", "coverage",
                                               "image_entries", "conflicts", "sources"]),
                out_summary)
    accuracy = []
    if attributes_parquet:
        accuracy = labels.label_accuracy(columns, pd.read_parquet(attributes_parquet))
    write_table(pd.DataFrame(accuracy, columns=["attribute", "band", "n_images", "share",
                                                "accuracy"]), out_accuracy)
    log.info("labels: %s", "; ".join(f"{s['attribute']} {s['coverage']:.1%}" for s in summary))


# --- outliers -----------------------------------------------------------------------

_NOT_OUTLIER = {"", "none", "no", "false", "0"}


def score_outliers(reduced_npy, assignments_parquet, sizes_tsv, n_neighbours, reference_sample,
                   tiny_fraction, seed, out_scores):
    """One clustering's label-independent outlier scores (the expensive part).

    Output: ``scores.parquet`` with ``z`` (float64: the larger of the robust z of the
    distance to the centroid within the cluster and of the n-th neighbour distance),
    ``cluster`` (int32) and ``tiny_cluster`` (bool).
    """
    import pandas as pd

    from descluster import outliers

    X = np.load(reduced_npy, mmap_mode="r")
    assignments = pd.read_parquet(assignments_parquet, columns=["cluster", "distance"])
    cluster = assignments["cluster"].to_numpy()
    tiny = outliers.tiny_clusters(pd.read_csv(sizes_tsv, sep="\t")["size"].to_numpy(),
                                  tiny_fraction)
    knn = outliers.knn_distance(X, n_neighbours, reference_sample, seed)
    z = outliers.distance_score(assignments["distance"].to_numpy(), cluster, knn)
    frame = pd.DataFrame({"z": z, "cluster": cluster, "tiny_cluster": tiny[cluster]})
    with atomic_output(out_scores) as tmp:
        frame.to_parquet(tmp, index=False)
    log.info("outliers: %d of %d clusters tiny", tiny.sum(), len(tiny))


def combine_outliers(inputs, label_entries, images_parquet, attributes_parquet, images_root, rate,
                     seed, out_scores, out_sheet, out_summary):
    """Outlier scores per model-variant and combined; flags at ``rate``; a sheet of the top ones.

    Cheap: a label edit reruns this, not :func:`score_outliers`.

    Parameters
    ----------
    inputs : list of dict
        One per (model, variant): model, pca, clustering, scores (from
        :func:`score_outliers`).
    label_entries : list of dict
        Configured label files (as for :func:`propagate_labels`); clusters they mark
        ``outlier: true`` count as suspicious in the clusterings used here.
    attributes_parquet : path or None
        The aligned ground truth; with an ``outlier`` column (``none`` or empty = not
        an outlier, else its kind), precision and recall are measured.
    """
    import pandas as pd

    from descluster import gallery, labels, outliers

    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    labelled = {}
    for entry in label_entries:
        label_file = labels.read_label_file(entry["file"], entry["clustering"], entry["k"])
        labelled.setdefault(entry["clustering"], set()).update(label_file.outlier_clusters)
    scores = {}
    for item in inputs:
        frame = pd.read_parquet(item["scores"])
        suspicious = frame["tiny_cluster"].to_numpy() | np.isin(
            frame["cluster"].to_numpy(), sorted(labelled.get(item["clustering"], ())))
        scores[f"score_{item['model']}_{item['pca']}"] = outliers.model_score(
            frame["z"].to_numpy(), suspicious)
        log.info("outliers: %s, %d images in suspicious clusters", item["clustering"],
                 suspicious.sum())
    matrix = np.column_stack(list(scores.values()))
    n_flagging, combined = outliers.combine(matrix, rate)
    flags = outliers.flag_top(combined, rate)
    frame = pd.DataFrame({"paths": paths, **scores, "n_models_flagging": n_flagging,
                          "combined_score": combined, "flag": flags})
    with atomic_output(out_scores) as tmp:
        frame.to_parquet(tmp, index=False)
    top = frame["paths"].iloc[np.argsort(-combined, kind="stable")[:30]].tolist()
    sheet, _ = gallery.contact_sheet({"1-10": top[:10], "11-20": top[10:20], "21-30": top[20:30]},
                                     images_root, f"top outliers of {len(paths)} images")
    with atomic_output(out_sheet) as tmp:
        sheet.save(tmp, quality=85)
    write_table(_outlier_summary(frame, scores, rate, attributes_parquet), out_summary)


def _outlier_summary(frame, scores, rate, attributes_parquet):
    """Flags, precision and recall per scope (combined and each model-variant) and outlier kind."""
    import pandas as pd

    import pyarrow.parquet as pq

    from descluster import outliers

    truth = None
    if attributes_parquet and "outlier" in pq.read_schema(attributes_parquet).names:
        kinds = pd.read_parquet(attributes_parquet, columns=["outlier"])["outlier"]
        truth = kinds.str.strip().str.lower()
    scopes = {"combined": frame["flag"].to_numpy()}
    scopes.update({name.removeprefix("score_"): outliers.flag_top(frame[name].to_numpy(), rate)
                   for name in scores})
    rows = []
    for scope, flags in scopes.items():
        if truth is None:
            rows.append({"scope": scope, "kind": "all", "n_true": None, "n_flagged": int(flags.sum()),
                         "precision": None, "recall": None})
            continue
        is_outlier = ~truth.isin(_NOT_OUTLIER).to_numpy()
        precision, recall = outliers.precision_recall(flags, is_outlier)
        rows.append({"scope": scope, "kind": "all", "n_true": int(is_outlier.sum()),
                     "n_flagged": int(flags.sum()), "precision": precision, "recall": recall})
        for kind in sorted(set(truth[is_outlier])):
            _, recall = outliers.precision_recall(flags, (truth == kind).to_numpy())
            rows.append({"scope": scope, "kind": kind, "n_true": int((truth == kind).sum()),
                         "n_flagged": int(flags.sum()), "precision": None, "recall": recall})
    return pd.DataFrame(rows, columns=["scope", "kind", "n_true", "n_flagged", "precision", "recall"])


# --- agreement between models -------------------------------------------------------

def compare_clusterings(assignment_parquets, out_tsv, out_plot):
    """Adjusted Rand index between every pair of final clusterings; table and heatmap."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from descluster import labels, plots

    names, clusters = [], []
    for path in assignment_parquets:
        meta = clustering_metadata(path)
        names.append(labels.clustering_id(meta["model"], meta["pca"], meta["k"]))
        clusters.append(pd.read_parquet(path, columns=["cluster"])["cluster"].to_numpy())
    ari = np.eye(len(names))
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            ari[i, j] = ari[j, i] = adjusted_rand_score(clusters[i], clusters[j])
            rows.append({"clustering_a": names[i], "clustering_b": names[j],
                         "same_model": names[i].split("/")[0] == names[j].split("/")[0],
                         "ari": ari[i, j]})
    write_table(pd.DataFrame(rows, columns=["clustering_a", "clustering_b", "same_model", "ari"]),
                out_tsv)
    plots.plot_agreement(ari, names, out_plot)


# --- static HTML browser ------------------------------------------------------------

def write_gallery(assignments_parquet, page_stem, out_folder):
    """Every member of every cluster of one clustering, nearest first, as the browser's
    gallery chunks (:func:`descluster.site.write_gallery`). Label-independent: a label
    edit does not rewrite them."""
    import pandas as pd

    from descluster import site

    with atomic_directory(out_folder) as staging:
        # rows and distances only: the pages take paths from paths.js
        site.write_gallery(pd.read_parquet(assignments_parquet, columns=["cluster", "distance"]),
                           page_stem, staging)


def write_paths(images_parquet, out_script):
    """The run's ``paths.js``: every image path, front-coded, for the pages to look up by
    row (:func:`descluster.site.write_paths_script`)."""
    import pandas as pd

    from descluster import site

    paths = pd.read_parquet(images_parquet, columns=["paths"])["paths"]
    site.write_paths_script(paths, out_script)
    log.info("paths: %d images, %.1f MB", len(paths), Path(out_script).stat().st_size / 1e6)


def build_site(models, clusterings, digests, figures, outlier_files, optional_tables,
               ground_truth, propagated, images_root, paths_script, seed, out_index, out_pages,
               out_outliers, out_files):
    """Write the offline HTML browser (see :mod:`descluster.site`).

    Parameters
    ----------
    clusterings : list of dict
        name (``model/pca/kK``), cards (TSV), sheets (folder), template (YAML path),
        assignments (Parquet).
    digests : dict of str -> path
        Model -> ``results/summary/models/{model}.tsv``.
    figures : dict
        ``pca`` and ``kscan`` (model -> PNG) and ``agreement`` (PNG).
    outlier_files : dict
        ``summary`` (TSV), ``scores`` (Parquet), ``sheet`` (JPEG).
    optional_tables : dict of str -> path or None
        ``ranking``, ``validation``, ``labels``, ``suggested``, ``effort``
        (labelling_effort.tsv), ``accuracy`` (label_accuracy.tsv) TSVs when they exist.
    ground_truth, propagated : path or None
        ``attributes.parquet`` and ``labels.parquet``: the cards show their breakdowns.
    images_root : path or None
        The cards' thumbnails are read from here; the pages link the originals.
    paths_script : path
        The run's ``paths.js``, which the galleries look their members' paths up in.
    seed : int
        draw_cards' seed: the cards show the members of its contact sheets.
    out_pages : list of path
        One page per clustering, aligned with ``clusterings``.
    out_files : path
        Folder of the pages' scripts, styles, data scripts and thumbnails.
    """
    import pandas as pd

    from descluster import site

    page_dir = Path(out_index).parent
    tables = {"models": {m: pd.read_csv(digests[m], sep="\t") for m in models}}
    tables.update({name: pd.read_csv(path, sep="\t")
                   for name, path in optional_tables.items() if path})
    scores = pd.read_parquet(outlier_files["scores"])
    truth = pd.read_parquet(ground_truth) if ground_truth else None
    labels = pd.read_parquet(propagated) if propagated else None
    overview = []
    with atomic_directory(out_files) as staging:
        report = site.Report(page_dir, Path(out_files), staging, images_root, Path(paths_script))
        site.copy_assets(staging / "assets")
        (staging / "thumbs").mkdir()
        (staging / "data").mkdir()
        site.write_scores(scores, staging / "data")
        for clustering, out_page in zip(clusterings, out_pages):
            assignments = pd.read_parquet(clustering["assignments"])
            paths = assignments["paths"].to_numpy()
            overview.append(site.write_clustering(
                report, {**clustering, "page": out_page},
                pd.read_csv(clustering["cards"], sep="\t"), assignments, scores,
                None if truth is None else site.aligned(truth, paths, ground_truth),
                None if labels is None else site.aligned(labels, paths, propagated), seed))
        site.write_outliers(report, scores, truth, pd.read_csv(outlier_files["summary"], sep="\t"),
                            outlier_files["sheet"], clusterings, out_outliers)
    write_text_atomic(out_index, site.index_page(models, pd.DataFrame(overview), tables, figures,
                                                 page_dir))
    log.info("site: %d clustering pages in %s", len(out_pages), page_dir)
