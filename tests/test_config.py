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
