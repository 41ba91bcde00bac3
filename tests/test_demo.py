"""The demo generator: format, determinism and planted structure."""

import re

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from descluster import demo


def test_paths_and_attributes_look_like_veri_wild():
    attributes = demo.make_attributes(3000, seed=0)
    assert list(attributes.columns) == ["paths", "type", "colour", "view", "camera", "outlier"]
    assert attributes["paths"].str.fullmatch(r"veriwild\\([1-9]|10)\\\d{5}\\\d{6}\.jpg").all()
    parts = attributes["paths"].str.extract(r"veriwild\\(\d+)\\")[0].tolist()
    assert parts.index("10") == parts.index("1") + parts.count("1")  # part 10 follows part 1
    assert attributes["paths"].is_unique
    kinds = attributes["outlier"].value_counts()
    assert set(kinds.index) == {"none", "glare", "night", "no_vehicle"}
    assert 0.003 < 1 - kinds["none"] / len(attributes) < 0.015
    no_vehicle = attributes["outlier"] == "no_vehicle"
    assert (attributes.loc[no_vehicle, "type"] == "").all()
    assert set(attributes.loc[~no_vehicle, "type"]) <= set(demo.TYPES)


def test_deterministic_per_seed():
    a = demo.make_attributes(500, seed=4)
    b = demo.make_attributes(500, seed=4)
    assert a.equals(b)
    x = demo.make_descriptors(a, "vdc_color", seed=4)
    np.testing.assert_array_equal(x, demo.make_descriptors(b, "vdc_color", seed=4))
    assert not np.array_equal(x, demo.make_descriptors(a, "vdc_color", seed=5))


def test_shapes_and_value_profiles():
    attributes = demo.make_attributes(2000, seed=0)
    for model, dims in demo.MODEL_DIMS.items():
        x = demo.make_descriptors(attributes, model, seed=0)
        assert x.shape == (2000, dims) and x.dtype == np.float32
    assert demo.make_descriptors(attributes, "osnet", 0).min() == 0  # ReLU output
    assert demo.make_descriptors(attributes, "efficientnet-b7", 0).min() > -0.3  # swish output


def _nmi(attributes, model, column, k):
    x = demo.make_descriptors(attributes, model, seed=0)
    labels = KMeans(k, n_init=2, random_state=0).fit_predict(x)
    known = attributes[column] != ""
    return normalized_mutual_info_score(attributes.loc[known, column], labels[known])


@pytest.mark.slow
def test_models_encode_what_the_study_found():
    attributes = demo.make_attributes(3000, seed=0)
    # vdc_color separates colour, efficientnet-b7 does not; efficientnet-b7 follows the camera
    assert _nmi(attributes, "vdc_color", "colour", 12) > 0.6
    assert _nmi(attributes, "efficientnet-b7", "colour", 12) < 0.1
    assert _nmi(attributes, "efficientnet-b7", "camera", 40) > 0.5
    assert _nmi(attributes, "osnet", "type", 30) > _nmi(attributes, "vdc_type", "type", 30)


def test_thumbnails(tmp_path):
    attributes = demo.make_attributes(120, seed=0)
    demo.write_thumbnails(attributes.iloc[:5], tmp_path, seed=0)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jpg"))
    assert files == sorted(p.replace("\\", "/") for p in attributes["paths"].iloc[:5])
    from PIL import Image

    with Image.open(tmp_path / files[0]) as image:
        assert image.size == (64, 48)
    assert re.match(r"veriwild/1/", files[0])
