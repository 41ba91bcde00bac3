"""Label templates, label files (errors with lines) and propagation."""

import numpy as np
import pandas as pd
import pytest
import yaml

from descluster import labels
from descluster.errors import InputError


def sizes(k):
    return pd.DataFrame({"cluster": range(k), "size": [10] * k, "share": [1 / k] * k})


def test_template_is_a_valid_empty_label_file(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(labels.template("osnet", "pca150", 3, sizes(3)))
    document = yaml.safe_load(path.read_text())
    assert document["clustering"] == "osnet/pca150/k3"
    assert [c["cluster"] for c in document["clusters"]] == [0, 1, 2]
    assert set(document["clusters"][0]) == {"cluster", "size", "type", "view", "colour", "note",
                                            "outlier"}
    values, outliers = labels.read_label_file(path, "osnet/pca150/k3", 3)
    assert values == {} and outliers == set()


def write_labels(tmp_path, clusters, clustering="osnet/pca150/k3"):
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump({"clustering": clustering, "clusters": clusters}, sort_keys=False))
    return path


def test_values_outliers_and_attribute_filter(tmp_path):
    path = write_labels(tmp_path, [
        {"cluster": 0, "colour": "black", "view": "front", "outlier": False},
        {"cluster": 2, "colour": "", "view": "rear", "note": None, "outlier": True},
    ])
    values, outliers = labels.read_label_file(path, "osnet/pca150/k3", 3)
    assert values == {"colour": {0: "black"}, "view": {0: "front", 2: "rear"}}
    assert outliers == {2}
    values, _ = labels.read_label_file(path, "osnet/pca150/k3", 3, attributes=["colour"])
    assert values == {"colour": {0: "black"}}


@pytest.mark.parametrize("clusters, message", [
    ([{"cluster": 0}, {"cluster": 3}], r"line 4: cluster 3 does not exist in osnet/pca150/k3 \(clusters 0 to 2\)"),
    ([{"cluster": 1}, {"cluster": 1}], r"line 4: cluster 1 is labelled twice \(first on line 3\)"),
    ([{"cluster": 1, "outlier": "yes"}], r"line 3: 'outlier' must be true or false"),
    ([{"cluster": 1, "colour": ["red"]}], r"line 3: 'colour' must be text"),
])
def test_bad_entries_name_file_and_line(tmp_path, clusters, message):
    path = write_labels(tmp_path, clusters)
    with pytest.raises(InputError, match=r"labels\.yaml, " + message):
        labels.read_label_file(path, "osnet/pca150/k3", 3)


def test_wrong_clustering_and_bad_yaml(tmp_path):
    path = write_labels(tmp_path, [{"cluster": 0}], clustering="osnet/pca150/k30")
    with pytest.raises(InputError, match=r"line 1: the file is for clustering 'osnet/pca150/k30'"):
        labels.read_label_file(path, "osnet/pca150/k3", 3)
    path.write_text("clustering: x\nclusters:\n  - cluster: 0\n   colour: [\n")
    with pytest.raises(InputError, match=r"labels\.yaml, line 4: not valid YAML"):
        labels.read_label_file(path, "x", 3)


def test_confidence_from_distance_and_spread():
    conf = labels.confidence(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 0, 1]),
                             np.array([2.0, 2.0]))
    np.testing.assert_allclose(conf, [1.0, 1.0, 0.5, 0.0])


def test_propagation_earlier_source_wins_and_conflicts_are_counted():
    first = {"clustering": "a/pca2/k2", "labels": np.array([0, 0, 1, 1]),
             "confidence": np.full(4, 0.9),
             "values": {"colour": {0: "dark"}}}
    second = {"clustering": "b/pca2/k2", "labels": np.array([0, 1, 1, 0]),
              "confidence": np.full(4, 0.4),
              "values": {"colour": {0: "dark", 1: "light"}, "type": {1: "bus"}}}
    columns, summary = labels.propagate(4, [first, second])
    assert columns["colour"].tolist() == ["dark", "dark", "light", "dark"]
    assert columns["colour_source"].tolist() == ["a/pca2/k2", "a/pca2/k2", "b/pca2/k2", "b/pca2/k2"]
    np.testing.assert_allclose(columns["colour_confidence"], [0.9, 0.9, 0.4, 0.4])
    assert columns["type"].tolist() == ["", "bus", "bus", ""]
    assert np.isnan(columns["type_confidence"][0])
    by_attribute = {row["attribute"]: row for row in summary}
    assert by_attribute["colour"]["conflicts"] == 1  # image 1: 'dark' first, 'light' second
    assert by_attribute["colour"]["coverage"] == 1.0
    assert by_attribute["type"]["coverage"] == 0.5
    assert by_attribute["colour"]["sources"] == "a/pca2/k2 > b/pca2/k2"
