# Helpers shared by all rule files (validated config, model, variant and k lists, targets, resources).

import os
import re
from pathlib import Path

from descluster.config import (
    VARIANT_PATTERN,
    check_config_against_rows,
    check_input_path,
    checked_config_file,
    config_errors_exit,
    input_files,
    validate_config,
    variant_name,
)
from descluster.demo import MODEL_DIMS as DEMO_MODEL_DIMS
from descluster.errors import InputError
from descluster.ingest import descriptor_shape, paths_file_rows
from descluster.labels import clustering_id, parse_clustering_id

DEMO_DIR = "results/demo"
DEMO_PATHS_CSV = f"{DEMO_DIR}/images_paths.csv"
ENV = "../../envs/descluster.yaml"
# the config files of this run: those given with --configfile, else the demo's (see Snakefile)
CONFIG_FILES = [os.path.relpath(p) for p in workflow.overwrite_configfiles] or [
    "config/config.yaml"
]
CONFIG_SOURCE = CONFIG_FILES[-1]
# columns ingest_paths adds to the paths table; a paths file must not have them
RESERVED_PATH_COLUMNS = ("row", "path_original")


def _validated_config():
    # files given with --configfile, which Snakemake has read already: read again strictly
    # for what YAML lets pass silently (duplicate keys, anchors and aliases); the demo's
    # config/config.yaml was read so by the Snakefile
    for path in CONFIG_FILES if workflow.overwrite_configfiles else ():
        checked_config_file(path)
    with config_errors_exit():
        validate_config(
            config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml", CONFIG_SOURCE
        )
        _check_input_files()
        check_config_against_rows(config, _n_images(), CONFIG_SOURCE)
    return config


def _made_by_demo(path):
    return str(path).startswith(f"{DEMO_DIR}/")


def _runs_demo():
    return config["images"]["paths"] == DEMO_PATHS_CSV


def _check_input_files():
    """Input files named in the config exist, or are made by the demo rule in a demo run;
    none lies under results/ (outputs are never inputs) or holds braces in its name."""
    made = set(demo_files())
    for key, path in input_files(config):
        if key == "images.root" and _made_by_demo(f"{path}/"):
            continue  # the demo's thumbnails (images_root_input)
        if _made_by_demo(path):
            if not _runs_demo() or path not in made:
                raise InputError(
                    f"{CONFIG_SOURCE}: key '{key}': {path} is under {DEMO_DIR}/, which only "
                    f"the demo run makes (images.paths: {DEMO_PATHS_CSV}); point it at your "
                    "own file"
                )
            continue
        check_input_path(key, path, CONFIG_SOURCE)
        if key == "images.root":
            if not Path(path).is_dir():
                raise InputError(f"{CONFIG_SOURCE}: key 'images.root': folder {path} not found")
        elif not Path(path).is_file():
            raise InputError(f"{CONFIG_SOURCE}: key '{key}': file {path} not found")
    paths_csv = config["images"]["paths"]
    if Path(paths_csv).is_file():
        with open(paths_csv, encoding="utf-8", errors="replace") as handle:
            header = [c.strip().strip('"') for c in handle.readline().split(",")]
        clash = [c for c in header if c in RESERVED_PATH_COLUMNS]
        if clash:
            raise InputError(
                f"{CONFIG_SOURCE}: key 'images.paths': {paths_csv} has a column {clash[0]!r}, "
                f"a name the workflow gives a column it adds "
                f"({', '.join(RESERVED_PATH_COLUMNS)}); rename it"
            )


def demo_files():
    """Files of the make_demo rule that a demo config may name (images.root aside)."""
    return [
        *(f"{DEMO_DIR}/descriptors/{model}.pickle" for model in DEMO_MODEL_DIMS),
        DEMO_PATHS_CSV,
        f"{DEMO_DIR}/vehicle_info.txt",
        f"{DEMO_DIR}/attributes.csv",
    ]


def _n_images():
    """Rows of images.paths as ingest_paths reads them (one row per line; a file where that
    does not hold is refused here already), or the demo size it will get."""
    paths_csv = config["images"]["paths"]
    if Path(paths_csv).is_file():
        return paths_file_rows(paths_csv)
    return config["demo"]["n_images"]  # made by the demo rule (checked above)


_validated_config()

MODELS = list(config["descriptors"])
K_SCAN = list(range(config["k_range"][0], config["k_range"][1] + 1))


wildcard_constraints:
    model="|".join(re.escape(m) for m in MODELS),
    variant=VARIANT_PATTERN,
    k=r"[1-9][0-9]*",


ATTRIBUTES_PARQUET = "results/ingest/attributes.parquet"
ATTRIBUTE_CODES = "results/ingest/attribute_codes.npz"


def ground_truth():
    """The aligned ground truth as an input list: [attributes.parquet] or [] without it."""
    return [ATTRIBUTES_PARQUET] if config["attributes"] else []


def ground_truth_codes():
    """The ground truth as integer codes, an input list: [attribute_codes.npz] or []."""
    return [ATTRIBUTE_CODES] if config["attributes"] else []


def variants(model):
    """Variant names of a model ('pca150', 'var0.9')."""
    return [variant_name(v) for v in config["pca"][model]]


def final_clusterings(model):
    """(variant, k) of every final clustering of a model."""
    return [(variant, k) for variant in variants(model) for k in config["kmeans"][model]]


CLUSTERS = "results/clusters/{model}/{variant}/k{k}"
CARDS = "results/cards/{model}/{variant}/k{k}"


def clustering_files(pattern, models=MODELS):
    """`pattern` (with {model}, {variant}, {k}) for every final clustering of the given models."""
    return [
        pattern.format(model=model, variant=variant, k=k)
        for model in models
        for variant, k in final_clusterings(model)
    ]


def clustering_ids(models=MODELS):
    """The id (model/variant/kK) of every final clustering of the given models."""
    return [
        clustering_id(model, variant, k)
        for model in models
        for variant, k in final_clusterings(model)
    ]


def scan_centroids(wildcards):
    """The k-scan's centroids at a final clustering's k, when the scan covers that k."""
    if int(wildcards.k) not in K_SCAN:
        return []
    return [f"results/kscan/{wildcards.model}/{wildcards.variant}/k{wildcards.k}_centroids.npy"]


def kscan_rows(wildcards):
    return [
        f"results/kscan/{wildcards.model}/{variant}/k{k}.tsv"
        for variant in variants(wildcards.model)
        for k in K_SCAN
    ]


def label_settings():
    """Per configured label file, in config order: clustering, k, attributes (or None)."""
    return [
        {
            "clustering": entry["clustering"],
            "k": parse_clustering_id(entry["clustering"])[2],
            "attributes": entry.get("attributes"),
        }
        for entry in config["labels"]
    ]


def label_inputs(wildcards):
    """Files propagation reads, per label file in config order: the file and its clustering's
    assignments, centroids and reduced matrix (the space the confidence is measured in)."""
    inputs = {"files": [], "assignments": [], "centroids": [], "reduced": []}
    for entry in config["labels"]:
        model, variant, k = parse_clustering_id(entry["clustering"])
        folder = CLUSTERS.format(model=model, variant=variant, k=k)
        inputs["files"].append(entry["file"])
        inputs["assignments"].append(f"{folder}/assignments.parquet")
        inputs["centroids"].append(f"{folder}/centroids.npy")
        inputs["reduced"].append(f"results/pca/{model}/{variant}/reduced.npy")
    return inputs


def outlier_clusterings():
    """Per (model, variant) with final clusterings, the clustering outliers are scored on:
    the first labelled one, else the one with the largest k."""
    labelled = [e["clustering"] for e in config["labels"]]
    chosen = []
    for model in MODELS:
        ks = sorted(config["kmeans"][model])
        for variant in variants(model):
            if not ks:
                continue
            mine = [c for c in labelled if parse_clustering_id(c)[:2] == (model, variant)]
            k = parse_clustering_id(mine[0])[2] if mine else ks[-1]
            chosen.append(
                {
                    "model": model,
                    "variant": variant,
                    "clustering": clustering_id(model, variant, k),
                    "scores": f"results/outliers/{model}/{variant}/k{k}/scores.parquet",
                }
            )
    return chosen


def site_tables():
    """Tables the index shows, by name: the k-scan's suggestion, and those the config produces."""
    truth, labels = bool(config["attributes"]), bool(config["labels"])
    tables = {
        "suggested": "results/summary/suggested_k.tsv",
        "ranking": "results/summary/model_ranking.tsv" if truth else None,
        "validation": "results/summary/validation.tsv" if truth else None,
        "effort": "results/summary/labelling_effort.tsv" if truth else None,
        "labels": "results/summary/labels.tsv" if labels else None,
        "accuracy": "results/summary/label_accuracy.tsv" if labels else None,
    }
    return {name: path for name, path in tables.items() if path}


def page_files():
    return clustering_files("results/report/{model}_{variant}_k{k}.html")


def images_root_input():
    """The demo thumbnails folder as an input when images.root is the demo's; else nothing
    (a user's image folder is read, never tracked: it may hold 400,000 files)."""
    root = config["images"]["root"]
    return [root] if root and _made_by_demo(f"{root}/") else []


def images_root(wildcards, input):
    """images.root for a job: the tracked demo folder from the inputs, else the config's."""
    return input.thumbnails[0] if input.thumbnails else config["images"]["root"]


def map_pages():
    """The map page of every model-variant with final clusterings."""
    return [
        f"results/report/map_{model}_{variant}.html"
        for model in MODELS
        if config["kmeans"][model]
        for variant in variants(model)
    ]


def model_outputs(model):
    """The outputs of one model's branch that its digest (results/summary/models/M.tsv) waits for."""
    return [
        f"results/pca/{model}/explained_variance.png",
        f"results/plots/kscan_{model}.png",
        *clustering_files(f"{CARDS}/cards.tsv", [model]),
    ]


def all_targets():
    targets = [
        "results/summary/kscan.tsv",
        "results/summary/suggested_k.tsv",
        *[f"results/summary/models/{model}.tsv" for model in MODELS],
    ]
    if clustering_files(f"{CLUSTERS}/assignments.parquet"):
        targets += ["results/report/index.html", *map_pages()]
        targets += clustering_files("results/labels/templates/{model}_{variant}_k{k}.yaml")
        if config["attributes"]:
            targets += ["results/summary/validation.tsv", "results/summary/model_ranking.tsv"]
    if config["attributes"]:
        targets += ["results/summary/labelling_effort.tsv"]
        targets += [f"results/plots/effort_{model}.png" for model in MODELS]
        if config["labels"]:
            targets += ["results/labels/labels.parquet"]
    return targets


# --- resources: requests grow with the input, and by half again on each retry --------


def mem_mb(base_mb, per_input_mb):
    """mem_mb = (base_mb + per_input_mb x input MB) x (1 + 0.5 (attempt - 1))."""

    def request(wildcards, input, attempt):
        return int((base_mb + per_input_mb * input.size_mb) * (1 + 0.5 * (attempt - 1)))

    return request


def ingest_mem_mb(wildcards, input, attempt):
    """ingest_descriptors' request: 1.4 x the input for pickles and .npy; 3.5 x for Parquet,
    whose array exists twice (the reading child, then the step) beside Arrow's buffers."""
    per_input_mb = 3.5 if str(input.descriptors).lower().endswith(".parquet") else 1.4
    return mem_mb(800, per_input_mb)(wildcards, input, attempt)


def pca_fit_mem_mb(wildcards, input, attempt):
    """fit_pca's request: mem_mb(1200, 0.25) plus the d x d matrices of a covariance fit,
    which grow with the square of the descriptors' width d (read from the ingested file;
    before it exists, 0 until Snakemake evaluates the request again at submission)."""
    from descluster.steps.pca import COVARIANCE_BYTES_PER_D2

    try:
        n_cols = descriptor_shape(input.descriptors)[1]
    except FileNotFoundError:
        n_cols = 0
    covariance = config["pca_method"] == "covariance"
    square_mb = COVARIANCE_BYTES_PER_D2 * n_cols**2 / 2**20 if covariance else 0
    return mem_mb(1200 + square_mb, 0.25)(wildcards, input, attempt)


def runtime_min(base_min, min_per_gb):
    """runtime (minutes) = base_min + min_per_gb x input GB, doubled on each retry."""

    def request(wildcards, input, attempt):
        return int((base_min + min_per_gb * input.size_mb / 1024) * 2 ** (attempt - 1))

    return request
