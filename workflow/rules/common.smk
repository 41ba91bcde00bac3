# Helpers shared by the rule files: validated config, model/variant/k lists, targets, resources.

import re
from pathlib import Path

from snakemake.exceptions import WorkflowError

from descluster.config import (
    VARIANT_PATTERN,
    check_config_against_rows,
    validate_config,
    variant_name,
)
from descluster.demo import MODEL_DIMS as DEMO_MODEL_DIMS
from descluster.errors import InputError
from descluster.ingest import read_paths_table

DEMO_DIR = "results/demo"
DEMO_PATHS_CSV = f"{DEMO_DIR}/images_paths.csv"
ENV = "../../envs/descluster.yaml"
CONFIG_SOURCE = str(workflow.configfiles[-1]) if workflow.configfiles else "config"


def _validated_config():
    try:
        validate_config(
            config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml", CONFIG_SOURCE
        )
        check_config_against_rows(config, _n_images(), CONFIG_SOURCE)
    except InputError as exc:
        raise WorkflowError(f"descluster: {exc}") from None
    return config


def _n_images():
    """Rows of images.paths: from the file when it exists, else the demo size it will get."""
    paths_csv = config["images"]["paths"]
    if Path(paths_csv).is_file():
        return len(read_paths_table(paths_csv))
    if paths_csv == DEMO_PATHS_CSV:
        return config["demo"]["n_images"]
    raise InputError(f"key 'images.paths': file {paths_csv} not found")


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


def clustering_files(name, models=MODELS):
    """Files called `name` of every final clustering of the given models."""
    return [
        f"results/clusters/{model}/{pca}/k{k}/{name}"
        for model in models
        for pca, k in final_clusterings(model)
    ]


def kscan_rows(wildcards):
    return [
        f"results/kscan/{wildcards.model}/{pca}/k{k}.tsv"
        for pca in variants(wildcards.model)
        for k in K_SCAN
    ]


def model_targets(model):
    """Every output of one model's branch."""
    return [
        f"results/pca/{model}/explained_variance.png",
        f"results/plots/kscan_{model}.png",
        f"results/summary/models/{model}.tsv",
        *clustering_files("assignments.parquet", [model]),
    ]


def all_targets():
    targets = [
        "results/summary/kscan.tsv",
        "results/summary/suggested_k.tsv",
        *[t for model in MODELS for t in model_targets(model)],
    ]
    if config["attributes"] and clustering_files("assignments.parquet"):
        targets += ["results/summary/validation.tsv", "results/summary/model_ranking.tsv"]
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
