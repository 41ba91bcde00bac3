"""Label templates, label files (every rule that keeps them from being misread) and propagation."""

import numpy as np
import pandas as pd
import pytest
import yaml

from descluster import labelfile, labels
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
    assert "  - cluster: 0  # 33.3% of the images\n" in text
    label_file = labels.read_label_file(path, CLUSTERING, 3)
    assert label_file.values == {} and label_file.outlier_clusters == set()
    assert label_file.images == []


def test_template_header_says_where_to_save_the_file_never_under_results():
    text = labels.template("osnet", "var0.9", 3, sizes(3), ["type"])
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "config/labels/osnet_var0.9_k3.yaml" in " ".join(header)
    assert "never under results/" in " ".join(header)
    assert "results/report/osnet_var0.9_k3.html" in " ".join(header)
    # a model name that YAML would misread is written quoted
    assert 'clustering: "0x10/pca2/k3"' in labels.template("0x10", "pca2", 3, sizes(3), ["type"])


def write(tmp_path, text, name="labels.yaml"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def document(clusters, images=(), attributes=("colour", "view")):
    """A label file's text, as the template and the pages write it."""
    return labelfile.serialize({
        "clustering": CLUSTERING, "attributes": list(attributes),
        "clusters": [{"size": 1, "values": {}, "note": "", "mixed": False, "outlier": False} | c
                     for c in clusters],
        "images": [{"outlier": False, "not_cluster": False, "values": {}, "note": ""} | i
                   for i in images]})


def test_values_outliers_mixed_and_attribute_filter(tmp_path):
    path = write(tmp_path, document([
        {"id": 0, "values": {"colour": "black", "view": "front"}, "note": "dark, under trees"},
        {"id": 1, "mixed": True},
        {"id": 2, "values": {"view": "rear"}, "outlier": True},
    ]))
    label_file = labels.read_label_file(path, CLUSTERING, 3)
    # 'note' is a note, not an attribute; a mixed cluster names nothing
    assert label_file.values == {"colour": {0: "black"}, "view": {0: "front", 2: "rear"}}
    assert label_file.outlier_clusters == {2}
    assert labels.read_label_file(path, CLUSTERING, 3, attributes=["colour"]).values == {
        "colour": {0: "black"}}


def test_image_entries_are_read_in_file_order(tmp_path):
    path = write(tmp_path, document([{"id": 0}], images=[
        {"path": "veriwild\\1\\00001\\000002.jpg", "outlier": True},
        {"path": "a/b.jpg", "not_cluster": True, "values": {"colour": "red"}, "note": "taxi"},
    ]))
    images = labels.read_label_file(path, CLUSTERING, 3).images
    assert [(i["path"], i["outlier"], i["not_cluster"], i["values"]) for i in images] == [
        ("veriwild/1/00001/000002.jpg", True, False, {}),
        ("a/b.jpg", False, True, {"colour": "red"}),
    ]


def test_hand_edits_within_the_grammar_are_read(tmp_path):
    text = document([{"id": 0}, {"id": 1}]).replace('colour: ""', "colour: dark blue  # hand", 1)
    text = text.replace("clusters:\n", "clusters:\n\n# a comment line\n").replace("\n", "\r\n")
    path = write(tmp_path, "\ufeff" + text.replace('view: ""', 'view: " side "', 1))
    assert labels.read_label_file(path, CLUSTERING, 3).values == {
        "colour": {0: "dark blue"}, "view": {0: "side"}}


@pytest.mark.parametrize("unquoted", ["no", "yes", "on", "off", "Null", "y"])
def test_yaml_words_never_become_labels(tmp_path, unquoted):
    text = document([{"id": 0}]).replace('colour: ""', f"colour: {unquoted}")
    path = write(tmp_path, text)
    line = text.splitlines().index(f"    colour: {unquoted}") + 1
    with pytest.raises(InputError, match=(
            rf"^{path}, line {line}: 'colour: {unquoted}' is read by YAML as true/false or null, "
            rf"not text; write it in quotes: colour: \"{unquoted}\"")):
        labels.read_label_file(path, CLUSTERING, 3)
    quoted = write(tmp_path, text.replace(f": {unquoted}\n", f': "{unquoted}"\n'), "quoted.yaml")
    assert labels.read_label_file(quoted, CLUSTERING, 3).values == {"colour": {0: unquoted}}


@pytest.mark.parametrize("unquoted", ["010", "1:30", ".nan", "3.5", "7", "~", "[red]", "'red'",
                                      "grün", "a#b", "a: b"])
def test_values_other_than_plain_words_must_be_quoted(tmp_path, unquoted):
    path = write(tmp_path, document([{"id": 0}]).replace('colour: ""', f"colour: {unquoted}"))
    with pytest.raises(InputError, match=r"line \d+: .* write the value in double quotes"):
        labels.read_label_file(path, CLUSTERING, 3)


GOOD = document([{"id": 0}, {"id": 1}], images=[{"path": "a.jpg", "outlier": True}])


def replaced(old, new, count=1):
    assert old in GOOD, old
    return GOOD.replace(old, new, count)


@pytest.mark.parametrize("text, message", [
    (replaced("  - cluster: 1", "  - cluster: 3"),
     r"line 17: cluster 3 does not exist in osnet/pca150/k3 \(clusters 0 to 2\)"),
    (replaced("  - cluster: 1", "  - cluster: 0"),
     r"line 17: cluster 0 is listed twice \(first on line 10\)"),
    (replaced("mixed: false", "mixed: maybe"), r"line 15: 'mixed' must be true or false, not 'maybe'"),
    (replaced('colour: ""', "colour: [red]"), r"line 12: .*write the value in double quotes"),
    (replaced('colour: ""', 'colour: ""\n    colour: "blue"'),
     r"line 13: 'colour' appears twice in this entry \(first on line 12\)"),
    (replaced('colour: ""', 'colour: &c "red"'), r"line 12: .*write the value in double quotes"),
    (replaced("colour", "colour_confidence", 2),
     r"line 12: attribute name 'colour_confidence' ends in '_confidence'"),
    (replaced("colour", "paths", 2), r"line 12: attribute name 'paths' is a name the workflow uses"),
    (replaced("colour", "constructor", 2),
     r"line 12: attribute name 'constructor' is a member of every JavaScript object"),
    (replaced("colour", "view type", 2), r"line 12: attribute name 'view type' is not a valid name"),
    (replaced("colour", "yes", 2), r"line 12: attribute name 'yes' is a YAML word"),
    (replaced("mixed: false", "mixed: true").replace('colour: ""', 'colour: "red"', 1),
     r"line 12: cluster 0 is marked mixed .* but names colour 'red'"),
    (replaced('colour: ""', 'colour: "mauve"'),
     r"line 12: colour 'mauve' is not one of the allowed values \(label_values.colour\): red, blue"),
    (replaced('  - path: "a.jpg"', '  - path: "a.jpg"\n    outlier: true\n  - path: "./a.jpg"'),
     r"line 27: image 'a.jpg' is listed twice \(first on line 25\)"),
    (replaced('  - path: "a.jpg"', '  - path: "a.jpg "'),
     r"line 25: the image path 'a.jpg ' starts or ends with a space"),
    (replaced("images:", "colours: []\nimages:"),
     r"line 24: unknown or misplaced key 'colours'; expected 'images:'"),
    (replaced('colour: ""', 'colour: "r\\u2028d"'),
     r"line 12: the value of 'colour' holds character U\+2028 \(a line break other than \\n\)"),
    (replaced('colour: ""', 'colour: "r\\ud800d"'),
     r"line 12: the quoted value of 'colour' must end with its closing"),
    (replaced('colour: ""', 'colour: "r\x85d"'), r"line 12: character U\+0085"),
    (replaced('colour: ""', 'colour: "r\rd"'), r"line 12: character U\+000D \(a carriage return"),
    (replaced("    size: 1\n", "\tsize: 1\n"), r"line 11: character U\+0009 \(a tab"),
    (replaced('note: ""', 'note: "a \u202e b"'), r"line 14: character U\+202E"),
    (replaced("  - cluster: 0", "- cluster: 0"),
     r"line 10: expected '  - cluster: <number>' entries under 'clusters:'"),
    (replaced("    size: 1\n", "      size: 1\n"), r"line 11: expected '    size: <number>'"),
    (replaced('    colour: ""\n', '      colour: ""\n'), r"line 12: a key is indented by 4 spaces"),
    (replaced("clustering: osnet/pca150/k3", "clustering: osnet/pca150/k30"),
     r"line 8: the file is for clustering 'osnet/pca150/k30', not 'osnet/pca150/k3'"),
    ((GOOD.split("clusters:")[0] + "clusters: []\nimages: []\n"),
     r"line 9: expected 'clusters:' alone on its line"),
    (b"clustering: osnet/pca150/k3\nclusters:\n  - cluster: 1\n    colour: \"r\xe9d\"\n",
     r"line 4: not UTF-8 text"),
], ids=lambda v: "file" if not isinstance(v, str) or v.startswith("# Labels") else v[:50])
def test_bad_label_files_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"labels\.yaml, " + message):
        labels.read_label_file(path, CLUSTERING, 3, allowed={"colour": ["red", "blue"]})


def test_an_exploding_file_is_refused_without_printing_it(tmp_path):
    # the classic billion-laughs shape: a few hundred bytes, gigabytes once expanded
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]"
              for i in range(8)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"labels\.yaml, line 1: unknown or misplaced key 'a'") as caught:
        labels.read_label_file(path, CLUSTERING, 3)
    assert len(str(caught.value)) < 250


def test_huge_and_deeply_nested_files_get_one_line(tmp_path):
    nested = write(tmp_path, "clustering: " + "[" * 60_000 + "\n", "nested.yaml")
    with pytest.raises(InputError, match=r"nested\.yaml, line 1: .*write the value in double quotes"):
        labels.read_label_file(nested, CLUSTERING, 3)
    indented = write(tmp_path, "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(3000)),
                     "indented.yaml")
    with pytest.raises(InputError, match=r"indented\.yaml, line 1: unknown or misplaced key 'a'"):
        labels.read_label_file(indented, CLUSTERING, 3)
    long_line = write(tmp_path, GOOD.replace('note: ""', 'note: "' + "x" * 70_000 + '"', 1),
                      "long.yaml")
    with pytest.raises(InputError, match=r"long\.yaml, line 14: the line is longer than 65536"):
        labels.read_label_file(long_line, CLUSTERING, 3)
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:  # sparse: nothing is read beyond the limit
        handle.truncate(labelfile.rules().spec["maxBytes"] + 1)
    with pytest.raises(InputError, match=r"huge\.yaml: the file is larger than 128 MiB"):
        labels.read_label_file(huge, CLUSTERING, 3)


def test_serialize_writes_only_the_document_and_refuses_what_no_file_may_hold():
    doc = labelfile.parse(GOOD.replace("# Labels", "# <script>hidden</script> Labels")
                          .replace('note: ""', 'note: "kept"  # dropped', 1), "f")
    text = labelfile.serialize(doc)
    assert "hidden" not in text and "dropped" not in text and 'note: "kept"' in text
    doc["clusters"][0]["values"]["colour"] = "a\tb"
    with pytest.raises(ValueError, match=r"colour holds character U\+0009"):
        labelfile.serialize(doc)


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
    first = source("a/pca2/k2", [0, 0, 1, 1], {"colour": {0: "dark", 1: "light"}})
    second = source("b/pca2/k2", [0, 0, 0, 1], {"colour": {0: "grey"}}, images=[
        image("i0", colour="red"),  # beats the first file's cluster entry
        image("i3", not_cluster=True)])
    columns, summary = labels.propagate(PATHS, [first, second])
    assert columns["colour"].tolist() == ["red", "dark", "light", "light"]
    assert columns["colour_source"][0] == "b/pca2/k2 (image)"
    assert columns["colour_confidence"][0] == 1.0
    # both image entries of the file colour comes from count, one of them gives a value
    assert summary[0]["image_entries"] == 2 and summary[0]["image_values"] == 1
    alone = source("b/pca2/k2", [0, 0, 0, 1], {"colour": {0: "grey", 1: "white"}},
                   images=[image("i3", not_cluster=True)])
    assert labels.propagate(PATHS, [alone])[0]["colour"].tolist() == ["grey", "grey", "grey", ""]


def test_images_marked_bad_get_no_attribute_values():
    first = source("a/pca2/k2", [0, 0, 1, 1], {"colour": {0: "dark", 1: "light"}},
                   outlier_clusters=[1], images=[image("i3", colour="red")])
    second = source("b/pca2/k2", [0, 0, 0, 1], {"colour": {0: "grey"}},
                    images=[image("i1", outlier=True), image("i0", not_cluster=True)])
    columns, summary = labels.propagate(PATHS, [first, second])
    # i1 marked bad itself, i2 in a cluster of bad images; i3 too, but its own value in
    # that file takes it out of the cluster: a good image misclustered
    assert columns["labelled_outlier"].tolist() == [False, True, True, False]
    assert columns["colour"].tolist() == ["dark", "", "", "red"]
    assert columns["colour_source"].tolist() == ["a/pca2/k2", "", "", "a/pca2/k2 (image)"]
    assert np.isnan(columns["colour_confidence"][1:3]).all()
    assert summary[0]["labelled"] == 2 and summary[0]["image_entries"] == 3


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
