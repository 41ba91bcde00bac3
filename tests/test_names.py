"""The one rule for attribute names, and the places names enter: ground-truth headers at
ingest (the config and label files are in test_config.py and test_labels.py)."""

import pandas as pd
import pytest
import yaml

from descluster import attributes, names
from descluster.errors import InputError


@pytest.mark.parametrize("name", ["type", "colour", "view", "Colour", "camera", "time", "model",
                                  "vehicle_type", "t2", "x" * 64])
def test_names_that_pass(name):
    assert names.name_problem(name) is None


@pytest.mark.parametrize("name, problem", [
    ("", "is not a valid name"), ("view type", "is not a valid name"), ("a\tb", "is not a valid name"),
    ("a\nb", "is not a valid name"), ("a: b", "is not a valid name"), ("#c", "is not a valid name"),
    ("1a", "is not a valid name"), ("7", "is not a valid name"), ("_x", "is not a valid name"),
    ("__proto__", "is not a valid name"), ("ünï", "is not a valid name"), ("a-b", "is not a valid name"),
    ("x" * 65, "is longer than 64 characters"),
    ("yes", "is a YAML word"), ("No", "is a YAML word"), ("ON", "is a YAML word"),
    ("null", "is a YAML word"), ("true", "is a YAML word"), ("y", "is a YAML word"),
    ("constructor", "JavaScript object"), ("toString", "JavaScript object"),
    ("hasOwnProperty", "JavaScript object"), ("valueOf", "JavaScript object"),
    ("note", "a name the workflow uses"), ("size", "a name the workflow uses"),
    ("cluster", "a name the workflow uses"), ("row", "a name the workflow uses"),
    ("paths", "a name the workflow uses"), ("path_original", "a name the workflow uses"),
    ("mixed", "a name the workflow uses"), ("outlier", "a name the workflow uses"),
    ("colour_confidence", "ends in '_confidence'"), ("colour_source", "ends in '_source'"),
    (3, "is not text"), (None, "is not text"), (True, "is not text"),
])
def test_names_that_fail_say_which_rule(name, problem):
    assert problem in names.name_problem(name)
    with pytest.raises(InputError, match=r"^where: attribute name .*\(docs/safety\.md: names\)$"):
        names.check_name(name, "where")


def test_yaml_reads_every_valid_name_as_itself():
    # the property the YAML-word rule buys: a name written bare in a label file is text
    for name in ["type", "Yes_no", "on_off", "nulls", "e5", "inf", "NaN", "x1"]:
        assert names.name_problem(name) is None
        assert yaml.safe_load(f"{name}: 1") == {name: 1}


@pytest.mark.parametrize("header, name", [
    ("paths,yes", "yes"), ("paths,view type", "view type"), ("paths,constructor", "constructor"),
    ("paths,colour_confidence", "colour_confidence"), ("paths,row_", None), ("paths,note", "note"),
    ('paths,"a\tb"', "a\tb"), ("paths,outlier", None), ("colour,paths,1st", "1st"),
])
def test_ground_truth_headers_follow_the_rule_at_ingest(tmp_path, header, name):
    csv_path = tmp_path / "truth.csv"
    width = header.count(",")
    csv_path.write_text(header + "\n" + "".join(f"i{i}.jpg" + ",x" * width + "\n" for i in range(4)))
    if header.startswith("colour"):
        csv_path.write_text(header + "\n" + "".join(f"x,i{i}.jpg,y\n" for i in range(4)))
    images = pd.Series([f"i{i}.jpg" for i in range(4)])
    if name is None:
        attributes.align_attributes(images, [(csv_path, "csv")], ["type"])
        return
    with pytest.raises(InputError, match=r"truth\.csv, line 1 \(the header\): attribute name ") as caught:
        attributes.align_attributes(images, [(csv_path, "csv")], ["type"])
    assert repr(name) in str(caught.value)
