"""Label templates, label files (every rule that keeps them from being misread) and propagation."""

import numpy as np
import pandas as pd
import pytest
import yaml

from descluster import labels
from descluster.errors import InputError

CLUSTERING = "osnet/pca150/k3"


def sizes(k):
    return pd.DataFrame({"cluster": range(k), "size": [10] * k, "share": [1 / k] * k})


def test_template_is_a_valid_empty_label_file(tmp_path):
    path = tmp_path / "t.yaml"
    text = labels.template("osnet", "pca150", 3, sizes(3), ["type", "view", "colour"])
    path.write_text(text)
    document = yaml.safe_load(text)
    assert document["clustering"] == CLUSTERING
    assert [c["cluster"] for c in document["clusters"]] == [0, 1, 2]
    assert list(document["clusters"][0]) == ["cluster", "size", "type", "view", "colour", "note",
                                             "mixed", "outlier"]
    assert document["images"] == []
    assert '    type: ""\n' in text and text.endswith("images: []\n")
    label_file = labels.read_label_file(path, CLUSTERING, 3)
    assert label_file.values == {} and label_file.outlier_clusters == set()
    assert label_file.images == []


def write(tmp_path, text, name="labels.yaml"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def document(clusters, images=None):
    body = {"clustering": CLUSTERING, "clusters": clusters}
    if images is not None:
        body["images"] = images
    return yaml.safe_dump(body, sort_keys=False)


def test_values_outliers_mixed_and_attribute_filter(tmp_path):
    path = write(tmp_path, document([
        {"cluster": 0, "colour": "black", "view": "front", "note": "dark, under trees"},
        {"cluster": 1, "colour": "", "view": "", "mixed": True},
        {"cluster": 2, "colour": "", "view": "rear", "note": None, "outlier": True},
    ]))
    label_file = labels.read_label_file(path, CLUSTERING, 3)
    # 'note' is a note, not an attribute; a mixed cluster names nothing
    assert label_file.values == {"colour": {0: "black"}, "view": {0: "front", 2: "rear"}}
    assert label_file.outlier_clusters == {2}
    assert labels.read_label_file(path, CLUSTERING, 3, attributes=["colour"]).values == {
        "colour": {0: "black"}}


def test_image_entries_are_read_in_file_order(tmp_path):
    path = write(tmp_path, document([{"cluster": 0}], images=[
        {"path": "veriwild\\1\\00001\\000002.jpg", "outlier": True},
        {"path": "a/b.jpg", "not_cluster": True, "colour": "red", "note": "taxi"},
    ]))
    images = labels.read_label_file(path, CLUSTERING, 3).images
    assert [(i["path"], i["outlier"], i["not_cluster"], i["values"]) for i in images] == [
        ("veriwild/1/00001/000002.jpg", True, False, {}),
        ("a/b.jpg", False, True, {"colour": "red"}),
    ]


@pytest.mark.parametrize("unquoted", ["no", "yes", "on", "off", "010", "1:30", ".nan", "3.5", "7"])
def test_yaml_surprises_never_become_labels(tmp_path, unquoted):
    text = f"clustering: {CLUSTERING}\nclusters:\n  - cluster: 0\n    colour: {unquoted}\n"
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=(
            rf"labels.yaml, line 4: 'colour: {unquoted}' is read by YAML as \w+ .*, not text; "
            rf"write it in quotes: colour: \"{unquoted}\"")):
        labels.read_label_file(path, CLUSTERING, 3)
    quoted = write(tmp_path, text.replace(f": {unquoted}\n", f': "{unquoted}"\n'), "quoted.yaml")
    assert labels.read_label_file(quoted, CLUSTERING, 3).values == {"colour": {0: unquoted}}


@pytest.mark.parametrize("text, message", [
    ("clustering: C\nclusters:\n  - cluster: 0\n  - cluster: 3\n",
     r"line 4: cluster 3 does not exist in osnet/pca150/k3 \(clusters 0 to 2\)"),
    ("clustering: C\nclusters:\n  - cluster: 1\n  - cluster: 1\n",
     r"line 4: cluster 1 is labelled twice \(first on line 3\)"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    outlier: maybe\n",
     r"line 4: 'outlier' must be true or false, got 'maybe'"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    colour: [red]\n",
     r"line 4: 'colour' must be text, got \['red'\]"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    colour: \"red\"\n    colour: \"blue\"\n",
     r"line 5: key 'colour' appears twice \(first on line 4\)"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    colour: &c \"red\"\n  - cluster: 2\n    colour: *c\n",
     r"line 4: anchors and aliases \(& and \*\) are not accepted"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    colour_confidence: \"high\"\n",
     r"line 4: 'colour_confidence' is the name of a column the workflow writes"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    paths: \"x\"\n",
     r"line 4: 'paths' is the name of a column the workflow writes"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    mixed: true\n    colour: \"red\"\n",
     r"line 5: cluster 1 is marked mixed .* but names colour 'red'"),
    ("clustering: C\nclusters:\n  - cluster: 1\n    colour: \"mauve\"\n",
     r"line 4: colour 'mauve' is not one of the allowed values \(label_values.colour\): red, blue"),
    ("clustering: C\nclusters: []\nimages:\n  - path: \"a.jpg\"\n  - path: \"a.jpg\"\n",
     r"line 5: image 'a.jpg' is listed twice \(first on line 4\)"),
    ("clustering: C\nclusters: []\ncolours: []\n",
     r"line 3: unknown key 'colours'; expected clustering, clusters, images"),
    (b"clustering: C\nclusters:\n  - cluster: 1\n    colour: \"r\xe9d\"\n",
     r"line 4: not UTF-8 text"),
])
def test_bad_label_files_name_file_and_line(tmp_path, text, message):
    if isinstance(text, bytes):
        text = text.replace(b"C\n", CLUSTERING.encode() + b"\n", 1)
    else:
        text = text.replace("C\n", CLUSTERING + "\n", 1)
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"labels\.yaml, " + message):
        labels.read_label_file(path, CLUSTERING, 3, allowed={"colour": ["red", "blue"]})


def test_an_exploding_file_is_refused_without_printing_it(tmp_path):
    # the classic billion-laughs shape: a few hundred bytes, gigabytes once expanded
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]"
              for i in range(8)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        labels.read_label_file(path, CLUSTERING, 3)
    assert "anchors and aliases" in str(caught.value) and len(str(caught.value)) < 200


def test_wrong_clustering_and_bad_yaml(tmp_path):
    path = write(tmp_path, document([{"cluster": 0}]).replace(CLUSTERING, "osnet/pca150/k30"))
    with pytest.raises(InputError, match=r"line 1: the file is for clustering 'osnet/pca150/k30'"):
        labels.read_label_file(path, "osnet/pca150/k3", 3)
    path.write_text("clustering: x\nclusters:\n  - cluster: 0\n   colour: [\n")
    with pytest.raises(InputError, match=r"labels\.yaml, line 4: "):
        labels.read_label_file(path, "x", 3)


def source(clustering, labels_, values, images=(), outlier_clusters=()):
    """A propagation source on 1-D data: centroid c sits at 10 c, each image at its centroid."""
    labels_ = np.asarray(labels_)
    k = int(labels_.max()) + 1
    centroids = (np.arange(k, dtype=np.float32) * 10)[:, None]
    label_file = labels.LabelFile(values, set(outlier_clusters), [dict(i) for i in images])
    return {"clustering": clustering, "file": f"{clustering}.yaml", "labels": labels_,
            "centroids": centroids, "reduced": centroids[labels_], "label_file": label_file}


def image(path, outlier=False, not_cluster=False, **values):
    return {"path": path, "line": 9, "outlier": outlier, "not_cluster": not_cluster,
            "values": values}


PATHS = np.array(["i0", "i1", "i2", "i3"], dtype=object)


def test_propagation_earlier_source_wins_and_conflicts_are_counted():
    first = source("a/pca2/k2", [0, 0, 1, 1], {"colour": {0: "dark"}})
    second = source("b/pca2/k2", [0, 1, 1, 0], {"colour": {0: "dark", 1: "light"},
                                               "type": {1: "bus"}})
    columns, summary = labels.propagate(PATHS, [first, second])
    assert columns["colour"].tolist() == ["dark", "dark", "light", "dark"]
    assert columns["colour_source"].tolist() == ["a/pca2/k2", "a/pca2/k2", "b/pca2/k2", "b/pca2/k2"]
    # every image sits on its centroid: as far as it can be from a cluster named otherwise
    np.testing.assert_allclose(columns["colour_confidence"], [1.0, 1.0, 1.0, 1.0])
    assert columns["type"].tolist() == ["", "bus", "bus", ""]
    assert np.isnan(columns["type_confidence"][0])
    by_attribute = {row["attribute"]: row for row in summary}
    assert by_attribute["colour"]["conflicts"] == 1  # image 1: 'dark' first, 'light' second
    assert by_attribute["colour"]["coverage"] == 1.0
    assert by_attribute["type"]["coverage"] == 0.5
    assert by_attribute["colour"]["sources"] == "a/pca2/k2 > b/pca2/k2"


def test_image_entries_win_over_cluster_entries_of_any_file():
    first = source("a/pca2/k2", [0, 0, 1, 1], {"colour": {0: "dark", 1: "light"}},
                   outlier_clusters=[1])
    second = source("b/pca2/k2", [0, 0, 0, 1], {"colour": {0: "grey"}}, images=[
        image("i0", colour="red"),  # beats the first file's cluster entry
        image("i1", outlier=True),
        image("i3", not_cluster=True)])
    columns, summary = labels.propagate(PATHS, [first, second])
    assert columns["colour"].tolist() == ["red", "dark", "light", "light"]
    assert columns["colour_source"][0] == "b/pca2/k2 (image)"
    assert columns["colour_confidence"][0] == 1.0
    assert columns["labelled_outlier"].tolist() == [False, True, True, True]
    assert summary[0]["image_entries"] == 1
    alone = source("b/pca2/k2", [0, 0, 0, 1], {"colour": {0: "grey", 1: "white"}},
                   images=[image("i3", not_cluster=True)])
    assert labels.propagate(PATHS, [alone])[0]["colour"].tolist() == ["grey", "grey", "grey", ""]


def test_an_image_entry_for_an_unknown_image_names_the_file_and_line():
    wrong = source("a/pca2/k2", [0, 0, 1, 1], {}, images=[image("nowhere.jpg", outlier=True)])
    with pytest.raises(InputError, match=r"a/pca2/k2.yaml, line 9: image 'nowhere.jpg' is not "
                                         r"among the images"):
        labels.propagate(PATHS, [wrong])


def test_accuracy_by_confidence_band():
    columns = {"colour": np.array(["red", "Red", "blue", "blue", ""], dtype=object),
               "colour_confidence": np.array([0.9, 0.3, 0.1, 0.6, np.nan])}
    truth = pd.DataFrame({"paths": list("abcde"), "colour": ["red", "red", "red", "", "blue"],
                          "outlier": ["none"] * 5})
    rows = {r["band"]: r for r in labels.label_accuracy(columns, truth)}
    assert rows["all"]["n_images"] == 3 and rows["all"]["accuracy"] == pytest.approx(2 / 3)
    assert rows[">=0.5"]["accuracy"] == 1.0 and rows["0.2-0.5"]["accuracy"] == 1.0
    assert rows["<0.2"]["accuracy"] == 0.0 and rows["<0.2"]["share"] == pytest.approx(1 / 3)
