"""Configuration: schema, defaults, cross-key checks, variant names."""

import copy
import re

import pytest
import yaml

from conftest import REPO_ROOT
from descluster.config import (VARIANT_PATTERN, check_config_against_rows, validate_config,
                               variant_name)
from descluster.errors import InputError

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


def parse_variant(name):
    """Inverse of :func:`variant_name`: ``'pca150' -> 150``, ``'var0.9' -> 0.9``."""
    match = re.fullmatch(r"pca(?P<n>[1-9][0-9]*)|var(?P<f>0\.[0-9]*[1-9])", name)
    if not match:
        raise ValueError(f"not a PCA variant name: {name!r}")
    return int(match["n"]) if match["n"] else float(match["f"])


@pytest.fixture
def shipped():
    with open(REPO_ROOT / "config" / "config.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_shipped_config_is_the_study(shipped):
    config = validate_config(shipped, SCHEMA, "config.yaml")
    assert config["pca"] == {"efficientnet-b7": [250], "osnet": [150], "vdc_color": [4, 70],
                             "vdc_type": [2, 20]}
    assert config["k_range"] == [2, 50]
    assert config["kmeans"]["osnet"] == [10, 13, 15, 30, 40, 50]
    assert config["pca_method"] == "covariance"


def test_defaults_fill_in(shipped):
    minimal = {"descriptors": {"m": "m.npy"}, "images": {"paths": "p.csv"}, "k_range": [2, 5]}
    config = validate_config(minimal, SCHEMA)
    assert config["pca"] == {"m": [0.9]}
    assert config["kmeans"] == {"m": []}
    assert config["seed"] == 0
    assert config["clustering"]["n_init"] == 3
    assert config["images"]["root"] is None
    assert config["attributes"] == []  # one file or a list; always a list once validated
    assert config["label_attributes"] == ["type", "view", "colour"]


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.update(colour_model="x"),
     r"key 'colour_model': unknown key; expected one of: descriptors, images, attributes"),
    (lambda c: c.update(seed="zero"), r"key 'seed': 'zero' is not of type 'integer'"),
    (lambda c: c.update(k_range=[1, 50]), r"key 'k_range\[0\]': 1 is less than the minimum of 2"),
    (lambda c: c.update(k_range=[20, 5]), r"key 'k_range': \[20, 5\] is reversed"),
    (lambda c: c["pca"].update(osnet=[1.5]),
     r"key 'pca.osnet\[0\]': 1.5 is not valid; expected an integer >= 1"),
    (lambda c: c["pca"].update(osnet=[0.0]), r"key 'pca.osnet\[0\]': 0.0 is not valid"),
    (lambda c: c["pca"].update(osnet=[150, 150]), r"key 'pca.osnet': variant\(s\) \['pca150'\] listed twice"),
    (lambda c: c["kmeans"].update(resnet=[5]),
     r"key 'kmeans.resnet': model 'resnet' is not in 'descriptors'"),
    (lambda c: c["pca"].update(resnet=[5]), r"key 'pca.resnet': model 'resnet' is not in 'descriptors'"),
    (lambda c: c.update(pca_method="svd"), r"key 'pca_method': 'svd' is not one of"),
    (lambda c: c["images"].update(rooot="x"),
     r"key 'images.rooot': unknown key; expected one of: paths, root$"),
    (lambda c: c.pop("images"), r"'images' is a required property"),
    (lambda c: c["descriptors"].update({"bad name": "x.npy"}),
     r"key 'descriptors': model name 'bad name' must start with a letter or digit"),
])
def test_bad_configs_name_the_key(shipped, edit, message):
    config = copy.deepcopy(shipped)
    edit(config)
    with pytest.raises(InputError, match=r"^my\.yaml: .*" + message):
        validate_config(config, SCHEMA, "my.yaml")


def test_k_above_rows(shipped):
    config = validate_config(shipped, SCHEMA, "c.yaml")
    with pytest.raises(InputError, match=(r"key 'k_range': last k 50 must be below the number of "
                                          r"images \(40 in")):
        check_config_against_rows(config, 40, "c.yaml")
    config["k_range"] = [2, 5]
    with pytest.raises(InputError, match=r"key 'kmeans.efficientnet-b7': k \[10, 20\] must be below"):
        check_config_against_rows(config, 8, "c.yaml")
    check_config_against_rows(config, 100, "c.yaml")


@pytest.mark.parametrize("variant, name", [(150, "pca150"), (2, "pca2"), (0.9, "var0.9"),
                                           (0.95, "var0.95")])
def test_variant_names_round_trip(variant, name):
    assert variant_name(variant) == name
    assert parse_variant(name) == variant
    # the wildcard constraint of {variant} accepts every name variant_name gives
    assert re.fullmatch(VARIANT_PATTERN, name)


# --- numbers: finite only; variant names are file names ------------------------------------

@pytest.mark.parametrize("edit, key", [
    (lambda c: c["pca"].update(osnet=[float("nan")]), "pca.osnet[0]"),
    (lambda c: c["pca"].update(osnet=[float("inf")]), "pca.osnet[0]"),
    (lambda c: c.update(outliers={"rate": float("nan")}), "outliers.rate"),
    (lambda c: c.update(outliers={"tiny_cluster": float("nan")}), "outliers.tiny_cluster"),
    (lambda c: c.update(outliers={"tiny_cluster": float("inf")}), "outliers.tiny_cluster"),
    (lambda c: c.update(outliers={"tiny_cluster": float("-inf")}), "outliers.tiny_cluster"),
])
def test_nan_and_infinity_are_refused_for_every_number(shipped, edit, key):
    config = copy.deepcopy(shipped)
    edit(config)
    with pytest.raises(InputError, match=rf"^my\.yaml: key '{re.escape(key)}': -?(nan|inf) is not "
                                         r"accepted; expected a finite number$"):
        validate_config(config, SCHEMA, "my.yaml")


@pytest.mark.parametrize("key", ["seed", "threads", "pca_batch_rows"])
def test_nan_is_no_integer(shipped, key):
    with pytest.raises(InputError, match=rf"key '{key}': nan is not accepted"):
        validate_config({**copy.deepcopy(shipped), key: float("nan")}, SCHEMA, "my.yaml")


def test_a_tiny_fraction_is_named_without_an_exponent_or_refused(shipped):
    assert variant_name(1e-05) == "var0.00001" and re.fullmatch(VARIANT_PATTERN, "var0.00001")
    config = copy.deepcopy(shipped)
    config["pca"]["osnet"] = [1e-05]
    assert validate_config(config, SCHEMA)["pca"]["osnet"] == [1e-05]
    config["pca"]["osnet"] = [1e-300]
    with pytest.raises(InputError, match=r"key 'pca.osnet\[0\]': 1e-300 would be named "
                                         r"'var0\.0000.*longer than 24 characters"):
        validate_config(config, SCHEMA, "my.yaml")
    # YAML reads 1e-5 (no point) as text: the line says how to write it
    config["pca"]["osnet"] = ["1e-5"]
    with pytest.raises(InputError, match=r"YAML reads 1e-5 as text: write it with a point and "
                                         r"digits, e\.g\. 0\.00001$"):
        validate_config(config, SCHEMA, "my.yaml")


def test_model_names_that_become_file_names_are_limited(shipped):
    config = copy.deepcopy(shipped)
    config["descriptors"]["m" * 65] = "x.npy"
    with pytest.raises(InputError, match=r"key 'descriptors': model name 'm{20}.*at most 64 "
                                         r"characters"):
        validate_config(config, SCHEMA, "my.yaml")


# --- attribute names: one rule wherever they enter ---------------------------------------

@pytest.mark.parametrize("edit, key, name", [
    (lambda c: c.update(label_attributes=["type", "constructor"]), "label_attributes[1]",
     "constructor"),
    (lambda c: c.update(label_attributes=["yes"]), "label_attributes[0]", "yes"),
    (lambda c: c.update(label_attributes=["view type"]), "label_attributes[0]", "view type"),
    (lambda c: c.update(label_attributes=["colour_confidence"]), "label_attributes[0]",
     "colour_confidence"),
    (lambda c: c.update(label_values={"__proto__": ["a"]}), "label_values", "__proto__"),
    (lambda c: c.update(label_values={"note": ["a"]}), "label_values", "note"),
    (lambda c: c.update(labels=[{"clustering": "osnet/pca150/k10", "file": "x.yaml",
                                 "attributes": ["colour", "1a"]}]), "labels[0].attributes[1]", "1a"),
])
def test_attribute_names_in_the_config_follow_the_rule(shipped, edit, key, name):
    config = copy.deepcopy(shipped)
    edit(config)
    with pytest.raises(InputError, match=rf"^my\.yaml: key '{re.escape(key)}': attribute name "
                                         rf"'{re.escape(name)}' .*\(docs/safety\.md: names\)$"):
        validate_config(config, SCHEMA, "my.yaml")


# --- outputs are never inputs; paths Snakemake would misread ---------------------------

@pytest.mark.parametrize("path", ["results/labels/templates/osnet_pca150_k10.yaml",
                                  "./results/x.npy", "data/../results/x.npy", "link/x.yaml",
                                  "results"])
def test_inputs_under_results_are_refused(tmp_path, monkeypatch, path):
    from descluster.config import check_input_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "results")
    with pytest.raises(InputError, match=rf"^c\.yaml: key 'labels\[0\]\.file': '?{re.escape(path)}'? "
                                         r"is under results/, the folder the workflow writes .*save "
                                         r"it as config/labels/<model>_<variant>_k<k>\.yaml$"):
        check_input_path("labels[0].file", path, "c.yaml")
    check_input_path("labels[0].file", "config/labels/results.yaml", "c.yaml")
    check_input_path("descriptors.m", "results_old/x.npy", "c.yaml")


@pytest.mark.parametrize("path, char", [("data/{model}.npy", "{"), ("a}.npy", "}"),
                                        ("a\tb.npy", "\\t"), ("a\nb.npy", "\\n")])
def test_paths_snakemake_would_misread_are_refused(path, char):
    from descluster.config import check_input_path

    with pytest.raises(InputError, match=rf"^c\.yaml: key 'descriptors\.m': .* holds "
                                         rf"'{re.escape(char)}', which Snakemake reads as a wildcard"):
        check_input_path("descriptors.m", path, "c.yaml")
