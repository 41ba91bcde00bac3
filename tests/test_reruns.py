"""What a rerun recomputes: one model's branch, a touched input, a wider k-scan (dry runs)."""

import pickle
import re
import shutil

import numpy as np
import pytest
import yaml

from conftest import run_snakemake, write_config
from descluster.files import load_pickled_array

pytestmark = pytest.mark.usefixtures("snakemake_available")

# rules that gather every model's results: rerun whenever any model changes
AGGREGATES = {"collect_kscan", "collect_suggested_k", "collect_labelling_effort",
              "validate_clusterings", "compare_clusterings", "combine_outliers", "build_site", "all"}
# every rule of one model's branch, from its descriptor file on
MODEL_BRANCH = {"ingest_descriptors", "fit_pca", "plot_explained_variance", "reduce_pca", "scan_k",
                "summarize_kscan", "plot_kscan", "plot_labelling_effort", "cluster_kmeans", "draw_cards",
                "make_label_template", "write_gallery", "summarize_model", "score_outliers",
                "layout_map", "draw_map"}
# the ones that read only its descriptors and PCA, not the k-scan or the ground truth
BEFORE_SCAN = {"ingest_descriptors", "fit_pca", "plot_explained_variance", "reduce_pca", "layout_map"}
# per model-variant, but they show the combined outlier score of all models
COMBINED_VIEWS = {"draw_map"}


def planned_jobs(workdir, *args):
    """(rule, wildcards dict) of every job a dry run would execute."""
    result = run_snakemake(workdir, "-n", *args)
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", result.stdout):
        rule = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not rule:
            continue
        wildcards = re.search(r"wildcards: (.*)", block)
        pairs = dict(p.split("=", 1) for p in wildcards.group(1).split(", ")) if wildcards else {}
        jobs.append((rule.group(1), pairs))
    return jobs


@pytest.fixture
def finished_copy(demo_run, tmp_path):
    source, config, _ = demo_run
    workdir = tmp_path / "run"
    shutil.copytree(source, workdir, symlinks=True)
    return workdir, config


def test_finished_run_has_nothing_to_do(finished_copy):
    workdir, _ = finished_copy
    assert planned_jobs(workdir, "--configfile", "config.yaml") == []


def test_one_model_branch(finished_copy):
    workdir, _ = finished_copy
    jobs = planned_jobs(workdir, "results/summary/models/osnet.tsv", "--configfile", "config.yaml",
                        "--forcerun", "results/ingest/osnet.npy")
    rules = {rule for rule, _ in jobs}
    assert {"ingest_descriptors", "fit_pca", "scan_k", "cluster_kmeans", "summarize_model"} <= rules
    assert {wildcards.get("model") for _, wildcards in jobs} == {"osnet"}


def test_changing_one_descriptor_file_reruns_only_that_model(finished_copy):
    workdir, _ = finished_copy
    path = workdir / "results" / "demo" / "descriptors" / "vdc_color.pickle"
    array = load_pickled_array(path) * np.float32(1.01)
    path.write_bytes(pickle.dumps(array, protocol=4))
    jobs = planned_jobs(workdir, "--configfile", "config.yaml")
    models = {w["model"] for rule, w in jobs if "model" in w and rule not in COMBINED_VIEWS}
    assert models == {"vdc_color"}
    # exactly the jobs that read the file, directly or through what it feeds
    assert {rule for rule, w in jobs if "model" in w} == MODEL_BRANCH
    assert {rule for rule, w in jobs if "model" not in w} == AGGREGATES
    assert ("ingest_descriptors", {"model": "vdc_color"}) in jobs


def test_changing_the_ground_truth_reruns_exactly_what_reads_it(finished_copy):
    workdir, _ = finished_copy
    path = workdir / "results" / "demo" / "attributes.csv"
    path.write_text(path.read_text().replace(",front,", ",rear,", 3))
    jobs = planned_jobs(workdir, "--configfile", "config.yaml")
    # purity per k is measured in the k-scan jobs (where every row is assigned anyway), and
    # the final clusterings start from the scan's centroids: so all but the ingest and
    # the PCA follow; not a descriptor is read again
    rules = {rule for rule, _ in jobs}
    assert rules == (MODEL_BRANCH | AGGREGATES | {"ingest_attributes"}) - BEFORE_SCAN
    assert ("ingest_attributes", {}) in jobs


def test_wider_k_range_adds_only_the_new_k(finished_copy):
    workdir, config = finished_copy
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["k_range"] = [2, 6]
    write_config(workdir / "wider.yaml", config)
    jobs = planned_jobs(workdir, "--configfile", "wider.yaml")
    scans = [w for rule, w in jobs if rule == "scan_k"]
    n_variants = sum(len(v) for v in config["pca"].values())
    assert len(scans) == n_variants and {w["k"] for w in scans} == {"6"}
    per_model = {rule for rule, w in jobs if rule != "scan_k" and "model" in w}
    assert per_model <= MODEL_BRANCH - BEFORE_SCAN
    # a final clustering reruns only where the scan now covers its k: it starts from the
    # scan's centroids there (osnet's k = 6)
    assert {(w["model"], w["k"]) for rule, w in jobs if rule == "cluster_kmeans"} == {("osnet", "6")}
