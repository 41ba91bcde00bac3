"""End to end: a person fills label templates, the workflow labels every image.

The runs have the vehicle team's config shape: VeRi-Wild's vehicle_info.txt as the only
ground truth (type, colour, camera; no view) and the default label_attributes.
"""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import run_snakemake, write_config
from descluster import demo, labelfile
from descluster.ingest import normalise_path

pytestmark = pytest.mark.usefixtures("snakemake_available")

OSNET, VDC = "osnet/pca12/k6", "vdc_color/pca4/k3"


def team_config(config):
    """The tiny demo config in the team's shape: vehicle_info.txt alone as ground truth, the
    default label_attributes, and type's values as a closed list."""
    return {**config, "attributes": ["results/demo/vehicle_info.txt"],
            "label_values": {"type": list(demo.TYPES)}}


def template_path(workdir, clustering):
    return workdir / "results" / "labels" / "templates" / (clustering.replace("/", "_") + ".yaml")


def assignments_path(workdir, clustering):
    return workdir / "results" / "clusters" / clustering / "assignments.parquet"


def person_sees(workdir):
    """What a person tells from the pictures, by normalised path: the ground truth's type and
    colour and the demo's view (VeRi-Wild has none: the person looks)."""
    truth = pd.read_parquet(workdir / "results" / "ingest" / "attributes.parquet")
    demo = pd.read_csv(workdir / "results" / "demo" / "attributes.csv", keep_default_na=False)
    view = dict(zip(demo["paths"].map(normalise_path), demo["view"]))
    return truth.assign(view=truth["paths"].map(view).fillna(""),
                        outlier=truth["paths"].map(dict(zip(demo["paths"].map(normalise_path),
                                                            demo["outlier"]))).fillna("none"))


def fill_template(template, assignments, seen, columns, out_path, edit=None):
    """Act as the person: name each cluster by its members' most common value (and with
    ``edit``, change the document further), written as the browser writes it."""
    document = labelfile.parse(template.read_text(encoding="utf-8"), template)
    members = pd.read_parquet(assignments).merge(seen, on="paths")
    for entry in document["clusters"]:
        group = members[members["cluster"] == entry["id"]]
        for column in columns:
            known = group[column][group[column] != ""]
            entry["values"][column] = known.mode().iloc[0] if len(known) else ""
    if edit:
        edit(document)
    out_path.write_text(labelfile.serialize(document), encoding="utf-8")


def image_entry(path, **fields):
    return {"path": path, "outlier": False, "not_cluster": False, "values": {}, "note": "",
            **fields}


@pytest.fixture(scope="module")
def labelled_run(demo_run, tmp_path_factory):
    return labelled_copy(demo_run, tmp_path_factory)


def labelled_copy(demo_run, tmp_path_factory):
    """The demo run copied, in the team's shape, with two label files: vdc_color names
    colour, osnet names type, view and colour, calls its cluster 0 bad images, and has
    three image entries (one bad, one with its own colour, one "not this cluster").
    Returns (workdir, what the person sees (:func:`person_sees`), the run's result)."""
    source, config, _ = demo_run
    workdir = tmp_path_factory.mktemp("labelled") / "run"
    shutil.copytree(source, workdir, symlinks=True)
    config = team_config(config)
    write_config(workdir / "config.yaml", config)
    run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")
    seen = person_sees(workdir)
    paths = seen["paths"]
    (workdir / "config" / "labels").mkdir(parents=True)

    def osnet_edits(document):
        document["clusters"][0]["outlier"] = True
        for column in ("type", "view", "colour"):
            document["clusters"][0]["values"][column] = ""
        document["images"] = [image_entry(paths.iloc[5], outlier=True),
                              image_entry(paths.iloc[7], values={"colour": "purple-ish"}),
                              image_entry(paths.iloc[9], not_cluster=True)]

    for clustering, columns, edit in ((OSNET, ["type", "view", "colour"], osnet_edits),
                                      (VDC, ["colour"], None)):
        fill_template(template_path(workdir, clustering), assignments_path(workdir, clustering),
                      seen, columns, workdir / "config" / "labels" / template_path(
                          workdir, clustering).name, edit)
    config = {**config, "labels": [
        {"clustering": VDC, "file": "config/labels/vdc_color_pca4_k3.yaml",
         "attributes": ["colour"]},
        {"clustering": OSNET, "file": "config/labels/osnet_pca12_k6.yaml"},
    ]}
    write_config(workdir / "config.yaml", config)
    result = run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")
    return workdir, seen, result


def read_data(path):
    """The last JSON argument of a data script (``DC.page({...});``)."""
    text = path.read_text(encoding="utf-8")
    return json.loads("[" + text[text.index("(") + 1:text.rindex(")")] + "]")[-1]


# --- fields -------------------------------------------------------------------------


def test_the_fields_are_label_attributes_whatever_the_ground_truth(labelled_run):
    workdir, _, _ = labelled_run
    template = labelfile.parse(template_path(workdir, OSNET).read_text(encoding="utf-8"))
    # VeRi-Wild's file has type, colour and camera; the fields are the default
    # label_attributes: view is one, camera (nobody tells it from a picture) is not
    assert template["attributes"] == ["type", "view", "colour"]
    # the ground truth is on the cards as a breakdown, camera included
    data = read_data(workdir / "results" / "report" / "files" / "data" / "osnet_pca12_k6.js")
    assert set(data["clusters"][1]["truth"]) == {"type", "colour", "camera"}
    # and it measures the labels of the attributes it has
    accuracy = pd.read_csv(workdir / "results" / "summary" / "label_accuracy.tsv", sep="\t")
    assert set(accuracy["attribute"]) == {"type", "colour"}


def test_changing_label_attributes_reruns_the_templates_and_pages(labelled_run):
    workdir, _, _ = labelled_run
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    write_config(workdir / "fields.yaml", {**config, "label_attributes": ["type", "view",
                                                                          "colour", "make"]})
    dry = run_snakemake(workdir, "-n", "--quiet", "rules", "--cores", "1",
                        "--configfile", "fields.yaml").stdout
    rules = {line.split()[0] for line in dry.splitlines()
             if len(line.split()) == 2 and line.split()[1].isdigit()} - {"total"}
    assert rules == {"make_label_template", "build_site", "draw_map", "all"}


# --- outputs ------------------------------------------------------------------------


def test_every_image_gets_labels_but_the_bad_ones(labelled_run):
    workdir, seen, _ = labelled_run
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    assert len(labels) == len(seen)
    osnet = pd.read_parquet(assignments_path(workdir, OSNET))["cluster"].to_numpy()
    bad = osnet == 0
    bad[5] = True
    bad[9] = False  # "not this cluster": out of the cluster of bad images too
    assert (labels["labelled_outlier"].to_numpy() == bad).all()
    # images marked bad get no attribute values; the others all do
    for attribute in ("type", "view", "colour"):
        assert (labels.loc[bad, attribute] == "").all(), attribute
        assert labels.loc[bad, f"{attribute}_confidence"].isna().all()
    assert (labels.loc[~bad, "colour"] != "").all()
    # colour comes from vdc_color (listed first), type and view from osnet, but for the one
    # image whose colour the person named itself
    good = ~bad
    good[7] = False
    assert set(labels.loc[good, "colour_source"]) == {VDC}
    named_by_osnet = good & (osnet != 0)
    named_by_osnet[9] = False  # "not this cluster": none of osnet's cluster's values
    assert set(labels.loc[named_by_osnet, "type_source"]) == {OSNET}
    assert labels["type"].iloc[9] == "" and labels["colour_source"].iloc[9] == VDC
    assert labels["colour"].iloc[7] == "purple-ish"
    assert labels["colour_source"].iloc[7] == f"{OSNET} (image)"
    assert labels["colour_confidence"].dropna().between(0, 1).all()
    right = labels.loc[good, "colour"] == seen.loc[good, "colour"]
    assert right.mean() > 0.45  # three vdc_color clusters name the three commonest colours


def test_labels_keep_the_paths_as_written_and_the_row(labelled_run):
    workdir, _, _ = labelled_run
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    written = pd.read_csv(workdir / "results" / "demo" / "images_paths.csv")["paths"]
    assert list(labels.columns[:2]) == ["row", "paths"]
    assert labels["row"].tolist() == list(range(len(written)))
    assert labels["paths"].tolist() == written.tolist()  # Windows form: veriwild\1\...
    assert "\\" in labels["paths"].iloc[0]
    outliers = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    np.testing.assert_array_equal(labels["outlier_score"], outliers["combined_score"])
    np.testing.assert_array_equal(labels["outlier_flag"], outliers["flag"])


def test_summary_counts_image_entries_coverage_and_conflicts(labelled_run):
    workdir, _, _ = labelled_run
    summary = pd.read_csv(workdir / "results" / "summary" / "labels.tsv",
                          sep="\t").set_index("attribute")
    # osnet's file has three image entries (bad, own colour, not this cluster)
    assert summary.loc["type", "image_entries"] == 3
    assert summary.loc["type", "image_values"] == 0
    assert summary.loc["colour", "image_entries"] == 3
    assert summary.loc["colour", "image_values"] == 1
    assert summary.loc["colour", "sources"] == f"{VDC} > {OSNET}"
    assert summary.loc["view", "sources"] == OSNET
    assert 0 < summary.loc["colour", "conflicts"] < summary.loc["colour", "labelled"]
    assert summary.loc["colour", "coverage"] < 1.0  # the bad images have none


def test_label_accuracy_is_measured_by_confidence_band(labelled_run):
    workdir, seen, _ = labelled_run
    accuracy = pd.read_csv(workdir / "results" / "summary" / "label_accuracy.tsv", sep="\t")
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    colour = accuracy[accuracy["attribute"] == "colour"].set_index("band")
    known = (labels["colour"] != "") & (seen["colour"] != "")
    right = labels["colour"].str.lower() == seen["colour"].str.lower()
    assert colour.loc["all", "n_images"] == known.sum()
    assert colour.loc["all", "accuracy"] == pytest.approx(right[known].mean())
    assert colour.drop(index="all")["n_images"].sum() == known.sum()
    # the confidence ranks errors: the top band is more often right than the lowest
    # band that holds images
    for attribute, rows in accuracy[accuracy["band"] != "all"].groupby("attribute"):
        filled = rows[rows["n_images"] > 0]
        assert filled["accuracy"].iloc[0] > filled["accuracy"].iloc[-1], attribute


def test_clusters_labelled_outlier_rank_as_outliers(labelled_run):
    workdir, _, _ = labelled_run
    cluster = pd.read_parquet(assignments_path(workdir, OSNET))["cluster"].to_numpy()
    scores = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    score = scores["score_osnet_pca12"].to_numpy()
    members, others = score[cluster == 0], score[cluster != 0]
    assert members.min() > np.percentile(others, 95)  # the labelled cluster's bonus


def test_the_map_names_labelled_clusters_and_colours_by_confidence(labelled_run):
    workdir, _, _ = labelled_run
    data = read_data(workdir / "results" / "report" / "map_osnet_pca12.js")
    by_name = {c["name"]: c for c in data["colourings"]}
    osnet = labelfile.parse((workdir / "config" / "labels" / "osnet_pca12_k6.yaml")
                            .read_text(encoding="utf-8"))
    names = by_name[OSNET]["names"]
    assert names[by_name[OSNET]["values"].index("0")] == "bad images"
    one = osnet["clusters"][1]["values"]
    assert names[by_name[OSNET]["values"].index("1")] == " · ".join(
        one[a] for a in ("type", "view", "colour") if one[a])
    assert "names" not in by_name["osnet/pca12/k4"]  # not labelled
    bands = by_name["colour confidence"]["values"]  # in label_accuracy's order
    assert bands and bands == [b for b in (">=0.5", "0.2-0.5", "<0.2", "") if b in bands]
    assert "" in bands  # the bad images have no label
    # every clustering's label file can be marked from every map (the working clustering)
    assert {c["name"] for c in data["clusterings"]} >= {OSNET, VDC, "efficientnet-b7/pca20/k4"}


def test_a_label_edit_reruns_only_cheap_jobs(labelled_run):
    workdir, _, _ = labelled_run
    osnet_file = workdir / "config" / "labels" / "osnet_pca12_k6.yaml"
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


def test_a_new_flag_rate_reruns_only_the_combination(labelled_run):
    """outliers.rate decides the flags, not the scores: the expensive jobs stay."""
    workdir, _, _ = labelled_run
    config = workdir / "config.yaml"
    original = config.read_text()
    try:
        settings = yaml.safe_load(original)
        settings["outliers"] = {**settings.get("outliers", {}), "rate": 0.02}
        write_config(config, settings)
        dry = run_snakemake(workdir, "-n", "--quiet", "rules", "--cores", "1",
                            "--configfile", "config.yaml").stdout
        rules = {line.split()[0] for line in dry.splitlines()
                 if len(line.split()) == 2 and line.split()[1].isdigit()} - {"total"}
        assert "score_outliers" not in rules and "combine_outliers" in rules
    finally:
        config.write_text(original)


# --- advice and review ---------------------------------------------------------------


def test_one_recommendation_per_attribute_everywhere(labelled_run):
    workdir, _, _ = labelled_run
    recommended = pd.read_csv(workdir / "results" / "summary" / "recommended.tsv", sep="\t")
    validation = pd.read_csv(workdir / "results" / "summary" / "validation.tsv", sep="\t")
    assert set(recommended["attribute"]) == set(validation["attribute"])
    for row in recommended.itertuples(index=False):
        rows = validation[validation["attribute"] == row.attribute]
        best = rows["purity"].max()
        assert row.best_purity == pytest.approx(best)
        close = rows[rows["purity"] >= best - row.tolerance - 1e-12]
        assert row.k == close["k"].min()  # the least naming within the tolerance
    # the index shows the same rows, label fields first
    index = (workdir / "results" / "report" / "index.html").read_text(encoding="utf-8")
    section = index[index.index('id="which"'):index.index("</table>", index.index('id="which"'))]
    for row in recommended.itertuples(index=False):
        assert row.clustering in section
    assert section.index(">type<") < section.index(">colour<") < section.index(">camera<")
    assert "within 2% of the best" in section


def test_each_labelled_clustering_has_a_review_page(labelled_run):
    workdir, _, _ = labelled_run
    report = workdir / "results" / "report"
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    assert (report / "review_osnet_pca12_k6.html").exists()
    data = read_data(report / "files" / "data" / "review_osnet_pca12_k6.js")
    assert data["target"]["base"]["source"] == "config/labels/osnet_pca12_k6.yaml"
    lists = {entry["attribute"]: entry for entry in data["attributes"]}
    assert set(lists) == {"type", "view", "colour"}
    low = lists["type"]["low"]
    # the images whose type comes from osnet's clusters, the least sure first
    from_here = labels.index[labels["type_source"] == OSNET]
    assert sorted(low["rows"]) == sorted(from_here.tolist())
    assert low["confidence"] == sorted(low["confidence"])
    # colour: where vdc_color's clusters and osnet's name it differently
    disagree = lists["colour"]["disagree"]
    assert disagree["rows"] and set(disagree["other"]) == {VDC}
    assert all(a != b for a, b in zip(disagree["clusterValue"], disagree["otherValue"]))
    assert disagree["confidence"] == sorted(disagree["confidence"])
    index = (report / "index.html").read_text(encoding="utf-8")
    assert 'href="review_osnet_pca12_k6.html"' in index


def test_bad_label_file_names_file_and_line(labelled_run):
    workdir, _, _ = labelled_run
    bad = workdir / "config" / "labels" / "osnet_pca12_k6.yaml"
    original = bad.read_text()
    try:
        bad.write_text(original.replace("  - cluster: 2", "  - cluster: 99", 1))
        result = run_snakemake(workdir, "results/labels/labels.parquet", "--cores", "1",
                               "--configfile", "config.yaml", check=False)
        assert result.returncode != 0
        line = next(x for x in result.stderr.splitlines() if x.startswith("descluster: error"))
        assert "config/labels/osnet_pca12_k6.yaml, line " in line
        assert "cluster 99 does not exist in osnet/pca12/k6 (clusters 0 to 5)" in line
    finally:
        bad.write_text(original)


def test_unknown_clustering_in_labels_is_a_config_error(labelled_run):
    workdir, _, _ = labelled_run
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["labels"][1]["clustering"] = "osnet/pca12/k7"
    write_config(workdir / "bad.yaml", config)
    result = run_snakemake(workdir, "-n", "--configfile", "bad.yaml", check=False)
    assert result.returncode != 0
    assert ("key 'labels[1].clustering': osnet/pca12/k7 is not a final clustering"
            in result.stderr.strip().splitlines()[-1])
