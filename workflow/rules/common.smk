# Helpers shared by all rule files (validated config, model, variant and k lists, targets, resources).

import re
import sys
from pathlib import Path

from descluster.config import (
    VARIANT_PATTERN,
    check_config_against_rows,
    validate_config,
    variant_name,
)
from descluster.demo import MODEL_DIMS as DEMO_MODEL_DIMS
from descluster.errors import InputError
from descluster.ingest import read_paths_table
from descluster.labels import parse_clustering_id

DEMO_DIR = "results/demo"
DEMO_PATHS_CSV = f"{DEMO_DIR}/images_paths.csv"
ENV = "../../envs/descluster.yaml"
CONFIG_SOURCE = str(workflow.configfiles[-1]) if workflow.configfiles else "config"


def _validated_config():
    try:
        validate_config(
            config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml", CONFIG_SOURCE
        )
        _check_input_files()
        check_config_against_rows(config, _n_images(), CONFIG_SOURCE)
    except InputError as exc:
        # one line and a non-zero exit, before any job: no stack for a config mistake
        sys.exit(f"descluster: config error: {exc}")
    return config


def _made_by_demo(path):
    return str(path).startswith(f"{DEMO_DIR}/")


def _check_input_files():
    """Input files named in the config exist (or are made by the demo rule)."""
    named = [(f"descriptors.{m}", p) for m, p in config["descriptors"].items()]
    named += [("images.paths", config["images"]["paths"]), ("attributes", config["attributes"])]
    named += [(f"labels[{i}].file", entry["file"]) for i, entry in enumerate(config["labels"])]
    for key, path in named:
        if path and not _made_by_demo(path) and not Path(path).is_file():
            raise InputError(f"key '{key}': file {path} not found")
    root = config["images"]["root"]
    if root and not _made_by_demo(f"{root}/") and not Path(root).is_dir():
        raise InputError(f"key 'images.root': folder {root} not found")


def _n_images():
    """Rows of images.paths: from the file when it exists, else the demo size it will get."""
    paths_csv = config["images"]["paths"]
    if Path(paths_csv).is_file():
        return len(read_paths_table(paths_csv))
    return config["demo"]["n_images"]  # made by the demo rule (checked above)


_validated_config()

MODELS = list(config["descriptors"])
K_SCAN = list(range(config["k_range"][0], config["k_range"][1] + 1))


wildcard_constraints:
    model="|".join(re.escape(m) for m in MODELS),
    pca=VARIANT_PATTERN,
    k=r"[1-9][0-9]*",


def variants(model):
    """Variant names of a model ('pca150', 'var0.9')."""
    return [variant_name(v) for v in config["pca"][model]]


def final_clusterings(model):
    """(pca, k) of every final clustering of a model."""
    return [(pca, k) for pca in variants(model) for k in config["kmeans"][model]]


CLUSTERS = "results/clusters/{model}/{pca}/k{k}"
CARDS = "results/cards/{model}/{pca}/k{k}"


def clustering_files(pattern, models=MODELS):
    """`pattern` (with {model}, {pca}, {k}) for every final clustering of the given models."""
    return [
        pattern.format(model=model, pca=pca, k=k)
        for model in models
        for pca, k in final_clusterings(model)
    ]


def kscan_rows(wildcards):
    return [
        f"results/kscan/{wildcards.model}/{pca}/k{k}.tsv"
        for pca in variants(wildcards.model)
        for k in K_SCAN
    ]


def label_entries():
    """Configured label files with what propagation needs, in config order."""
    entries = []
    for entry in config["labels"]:
        model, pca, k = parse_clustering_id(entry["clustering"])
        folder = CLUSTERS.format(model=model, pca=pca, k=k)
        entries.append({**entry, "attributes": entry.get("attributes"), "k": k,
                        "assignments": f"{folder}/assignments.parquet",
                        "sizes": f"{folder}/sizes.tsv"})
    return entries


def label_input_files():
    return [f for e in label_entries() for f in (e["file"], e["assignments"], e["sizes"])]


def outlier_inputs():
    """Per (model, variant) with final clusterings, the clustering outliers are scored on:
    the first labelled one, else the one with the largest k."""
    labelled = [e["clustering"] for e in config["labels"]]
    inputs = []
    for model in MODELS:
        for pca in variants(model):
            ks = sorted(config["kmeans"][model])
            if not ks:
                continue
            mine = [c for c in labelled if c.startswith(f"{model}/{pca}/")]
            k = parse_clustering_id(mine[0])[2] if mine else ks[-1]
            folder = CLUSTERS.format(model=model, pca=pca, k=k)
            inputs.append({"model": model, "pca": pca, "clustering": f"{model}/{pca}/k{k}",
                           "reduced": f"results/pca/{model}/{pca}/reduced.npy",
                           "assignments": f"{folder}/assignments.parquet",
                           "sizes": f"{folder}/sizes.tsv"})
    return inputs


def optional_site_tables():
    """Tables the HTML index shows when the config produces them."""
    return {
        "ranking": "results/summary/model_ranking.tsv" if config["attributes"] else None,
        "validation": "results/summary/validation.tsv" if config["attributes"] else None,
        "labels": "results/summary/labels.tsv" if config["labels"] else None,
    }


def page_files():
    return clustering_files("results/report/{model}_{pca}_k{k}.html")


def images_root_input():
    """The demo thumbnails folder as an input when images.root is the demo's; else nothing
    (a user's image folder is read, never tracked: it may hold 400,000 files)."""
    root = config["images"]["root"]
    return [root] if root and _made_by_demo(f"{root}/") else []


def images_root(wildcards, input):
    """images.root for a job: the tracked demo folder from the inputs, else the config's."""
    return input.thumbnails[0] if input.thumbnails else config["images"]["root"]


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
        targets += ["results/report/index.html"]
        targets += clustering_files("results/labels/templates/{model}_{pca}_k{k}.yaml")
        if config["attributes"]:
            targets += ["results/summary/validation.tsv", "results/summary/model_ranking.tsv"]
        if config["labels"]:
            targets += ["results/labels/labels.parquet"]
    return targets


# --- resources: requests grow with the input, and by half again on each retry --------


def mem_mb(base_mb, per_input_mb):
    """mem_mb = (base_mb + per_input_mb x input MB) x (1 + 0.5 (attempt - 1))."""

    def request(wildcards, input, attempt):
        return int((base_mb + per_input_mb * input.size_mb) * (1 + 0.5 * (attempt - 1)))

    return request


def runtime_min(base_min, min_per_gb):
    """runtime (minutes) = base_min + min_per_gb x input GB, doubled on each retry."""

    def request(wildcards, input, attempt):
        return int((base_min + min_per_gb * input.size_mb / 1024) * 2 ** (attempt - 1))

    return request
