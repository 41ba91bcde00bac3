"""End to end: a person fills label templates, the workflow labels every image."""

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import run_snakemake, write_config

pytestmark = pytest.mark.usefixtures("snakemake_available")


def fill_template(template_path, assignments_path, attributes, columns, out_path):
    """Act as the person: name each cluster by its members' most common true value."""
    document = yaml.safe_load(template_path.read_text())
    members = pd.read_parquet(assignments_path).merge(attributes, on="paths")
    for entry in document["clusters"]:
        group = members[members["cluster"] == entry["cluster"]]
        for column in columns:
            known = group[column][group[column] != ""]
            entry[column] = known.mode().iloc[0] if len(known) else ""
        entry["outlier"] = bool((group["outlier"] != "none").mean() > 0.5)
    out_path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def labelled_run(demo_run, tmp_path_factory):
    source, config, _ = demo_run
    workdir = tmp_path_factory.mktemp("labelled") / "run"
    shutil.copytree(source, workdir, symlinks=True)
    # the demo's ground truth (vehicle_info.txt + attributes.csv), aligned with the images
    attributes = pd.read_parquet(workdir / "results" / "ingest" / "attributes.parquet")
    (workdir / "labels").mkdir()
    for clustering, columns in (("osnet/pca12/k6", ["type", "view", "colour"]),
                                ("vdc_color/pca4/k3", ["colour"])):
        model, pca, k = clustering.split("/")
        fill_template(workdir / "results" / "labels" / "templates" / f"{model}_{pca}_{k}.yaml",
                      workdir / "results" / "clusters" / model / pca / k / "assignments.parquet",
                      attributes, columns, workdir / "labels" / f"{model}_{pca}_{k}.yaml")
    # the person also calls osnet's cluster 0 a cluster of bad images
    osnet_file = workdir / "labels" / "osnet_pca12_k6.yaml"
    document = yaml.safe_load(osnet_file.read_text())
    document["clusters"][0]["outlier"] = True
    # ...marks one image bad and names another one's colour itself (image entries)
    paths = attributes["paths"]
    document["images"] = [{"path": paths.iloc[5], "outlier": True},
                          {"path": paths.iloc[7], "colour": "purple-ish"}]
    osnet_file.write_text(yaml.safe_dump(document, sort_keys=False))
    config = {**config, "labels": [
        {"clustering": "vdc_color/pca4/k3", "file": "labels/vdc_color_pca4_k3.yaml",
         "attributes": ["colour"]},
        {"clustering": "osnet/pca12/k6", "file": "labels/osnet_pca12_k6.yaml"},
    ]}
    write_config(workdir / "config.yaml", config)
    result = run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")
    return workdir, attributes, result


def test_every_image_gets_labels(labelled_run):
    workdir, attributes, _ = labelled_run
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    assert len(labels) == len(attributes)
    assert (labels["colour"] != "").all() and (labels["type"] != "").all()
    # colour comes from vdc_color (listed first), type and view from osnet
    # (but for the one image whose colour the person named itself)
    assert set(labels["colour_source"].drop(index=7)) == {"vdc_color/pca4/k3"}
    assert set(labels["type_source"]) == {"osnet/pca12/k6"}
    assert labels["colour_confidence"].between(0, 1).all()
    merged = labels.merge(attributes, on="paths", suffixes=("", "_true"))
    vehicles = merged[merged["colour_true"] != ""]
    # three vdc_color clusters name the three commonest colours: right for most images
    assert (vehicles["colour"] == vehicles["colour_true"]).mean() > 0.45


def test_image_entries_win_and_mark_single_images(labelled_run):
    workdir, attributes, _ = labelled_run
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    assert labels["labelled_outlier"].iloc[5]
    assert labels["colour"].iloc[7] == "purple-ish"  # over vdc_color's cluster, listed first
    assert labels["colour_source"].iloc[7] == "osnet/pca12/k6 (image)"
    outliers = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    np.testing.assert_array_equal(labels["outlier_score"], outliers["combined_score"])
    np.testing.assert_array_equal(labels["outlier_flag"], outliers["flag"])


def test_label_accuracy_is_measured_by_confidence_band(labelled_run):
    workdir, attributes, _ = labelled_run
    accuracy = pd.read_csv(workdir / "results" / "summary" / "label_accuracy.tsv", sep="\t")
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    colour = accuracy[accuracy["attribute"] == "colour"].set_index("band")
    known = (labels["colour"] != "") & (attributes["colour"] != "")
    right = labels["colour"].str.lower() == attributes["colour"].str.lower()
    assert colour.loc["all", "n_images"] == known.sum()
    assert colour.loc["all", "accuracy"] == pytest.approx(right[known].mean())
    bands = colour.drop(index="all")
    assert bands["n_images"].sum() == known.sum()
    # the confidence ranks errors: for every attribute the top band is more often right
    # than the lowest band that holds images
    for attribute, rows in accuracy[accuracy["band"] != "all"].groupby("attribute"):
        filled = rows[rows["n_images"] > 0]
        assert filled["accuracy"].iloc[0] > filled["accuracy"].iloc[-1], attribute


def test_a_label_edit_reruns_only_cheap_jobs(labelled_run):
    workdir, _, _ = labelled_run
    osnet_file = workdir / "labels" / "osnet_pca12_k6.yaml"
    original = osnet_file.read_text()
    try:
        osnet_file.write_text(original.replace("outlier: true", "outlier: false", 1))
        dry = run_snakemake(workdir, "-n", "--quiet", "rules", "--cores", "1",
                            "--configfile", "config.yaml").stdout
        rules = {line.split()[0] for line in dry.splitlines()
                 if len(line.split()) == 2 and line.split()[1].isdigit()} - {"total"}
        # the expensive scores (kNN, centroid distances), the galleries and the map layouts
        # do not depend on the labels; the pages that show labels and scores do
        assert rules == {"combine_outliers", "propagate_labels", "build_site", "draw_map", "all"}
    finally:
        osnet_file.write_text(original)


def test_clusters_labelled_outlier_rank_as_outliers(labelled_run):
    workdir, _, _ = labelled_run
    cluster = pd.read_parquet(workdir / "results" / "clusters" / "osnet" / "pca12" / "k6"
                              / "assignments.parquet")["cluster"].to_numpy()
    scores = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    score = scores["score_osnet_pca12"].to_numpy()
    members, others = score[cluster == 0], score[cluster != 0]
    assert members.min() > np.percentile(others, 95)  # the labelled cluster's bonus
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    expected = cluster == 0
    expected[5] = True  # the image marked bad on its own
    assert (labels["labelled_outlier"].to_numpy() == expected).all()


def test_summary_counts_coverage_and_conflicts(labelled_run):
    workdir, _, _ = labelled_run
    summary = pd.read_csv(workdir / "results" / "summary" / "labels.tsv", sep="\t").set_index("attribute")
    assert summary.loc["colour", "coverage"] == 1.0
    assert summary.loc["colour", "sources"] == "vdc_color/pca4/k3 > osnet/pca12/k6"
    assert 0 < summary.loc["colour", "conflicts"] < summary.loc["colour", "labelled"]
    assert summary.loc["view", "sources"] == "osnet/pca12/k6"


def test_label_summary_is_on_the_index_page(labelled_run):
    workdir, _, _ = labelled_run
    assert "Propagated labels" in (workdir / "results" / "report" / "index.html").read_text()


def test_bad_label_file_names_file_and_line(labelled_run, tmp_path):
    workdir, _, _ = labelled_run
    bad = workdir / "labels" / "osnet_pca12_k6.yaml"
    document = yaml.safe_load(bad.read_text())
    document["clusters"][2]["cluster"] = 99
    bad.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run_snakemake(workdir, "results/labels/labels.parquet", "--cores", "1",
                           "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    line = next(x for x in result.stderr.splitlines() if x.startswith("descluster: error"))
    assert "labels/osnet_pca12_k6.yaml, line " in line
    assert "cluster 99 does not exist in osnet/pca12/k6 (clusters 0 to 5)" in line


def test_unknown_clustering_in_labels_is_a_config_error(labelled_run):
    workdir, _, _ = labelled_run
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["labels"][1]["clustering"] = "osnet/pca12/k7"
    write_config(workdir / "bad.yaml", config)
    result = run_snakemake(workdir, "-n", "--configfile", "bad.yaml", check=False)
    assert result.returncode != 0
    assert ("key 'labels[1].clustering': osnet/pca12/k7 is not a final clustering"
            in result.stderr.strip().splitlines()[-1])
