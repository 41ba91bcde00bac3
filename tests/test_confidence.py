"""The label confidence, and how it ranks wrong labels on real data."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from descluster import confidence
from descluster.files import load_descriptor_array

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import label_confidence as benchmark  # noqa: E402


def test_confidence_is_one_minus_the_ratio_to_the_nearest_cluster_named_otherwise():
    centroids = np.array([[0.0], [10.0], [20.0]], dtype=np.float32)
    X = np.array([[2.0], [12.0], [16.0], [0.0], [15.0]], dtype=np.float32)
    labels = np.array([0, 1, 2, 0, 1])
    got = confidence.label_confidence(X, centroids, labels, ["a", "a", "b"])
    # clusters 0 and 1 share a name: only cluster 2 is named otherwise for their images
    np.testing.assert_allclose(got, [1 - 2 / 18, 1 - 2 / 8, 1 - 4 / 6, 1.0, 0.0], rtol=1e-6)
    assert got.dtype == np.float64


def test_an_unnamed_cluster_counts_as_named_otherwise_and_its_images_get_nan():
    centroids = np.array([[0.0], [10.0], [20.0]], dtype=np.float32)
    X = np.array([[2.0], [12.0], [16.0]], dtype=np.float32)
    got = confidence.label_confidence(X, centroids, [0, 1, 2], ["a", "", "b"])
    assert got[0] == pytest.approx(1 - 2 / 8)
    assert np.isnan(got[1])
    assert got[2] == pytest.approx(1 - 4 / 6)


def test_confidence_is_one_when_every_cluster_has_the_same_name():
    centroids = np.array([[0.0], [10.0]], dtype=np.float32)
    X = np.array([[4.0], [6.0]], dtype=np.float32)
    got = confidence.label_confidence(X, centroids, [0, 1], ["a", "a"])
    np.testing.assert_array_equal(got, [1.0, 1.0])


def test_top_share_gain_and_auroc_on_hand_made_rankings():
    correct = np.array([True, True, True, True, False])
    assert confidence.top_share_gain([0.9, 0.8, 0.7, 0.6, 0.5], correct) == pytest.approx(0.2)
    assert confidence.auroc([0.9, 0.8, 0.7, 0.6, 0.5], correct) == 1.0
    assert confidence.auroc([0.5, 0.8, 0.7, 0.6, 0.9], correct) == 0.0
    # all tied: the kept images are an average draw, no gain whatever the row order
    assert confidence.top_share_gain([1.0] * 5, correct) == pytest.approx(0.0)
    # 2 kept above the cut, 2 places for 3 tied rows that are 2/3 right
    gain = confidence.top_share_gain([1, 1, 0, 0, 0], [True, True, False, True, True])
    assert gain == pytest.approx((2 + 2 * 2 / 3) / 4 - 0.8)
    assert np.isnan(confidence.auroc([0.1, 0.2], [True, True]))


def test_margin_ranks_wrong_labels_lower_than_the_distance_on_office_dslr(real_data):
    truth = pd.read_csv(real_data / "attributes.csv")["object"].to_numpy(dtype=object)
    compared = 0
    for model in ("googlenet", "caffenet", "surf"):
        Z = benchmark.reduce(load_descriptor_array(real_data / "descriptors" / f"{model}.pickle"))
        indices = benchmark.nearest_neighbours(Z, 10)
        for k in (10, 30):
            row = benchmark.measure(Z, truth, k, indices)
            if np.isnan(row["auroc_margin"]):  # every label right: nothing to rank
                continue
            assert row["auroc_margin"] > row["auroc_distance"], (model, k, row)
            assert row["gain_margin"] >= row["gain_distance"], (model, k, row)
            compared += 1
    assert compared >= 4


def test_one_value_per_centroid_is_required():
    centroids = np.zeros((3, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="one value per centroid \\(3\\)"):
        confidence.label_confidence(np.zeros((2, 1), dtype=np.float32), centroids, [0, 1], ["a", "b"])


def test_the_former_distance_confidence_is_kept_as_the_baseline():
    conf = benchmark.distance_confidence(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 0, 1]),
                                         np.array([2.0, 2.0]))
    np.testing.assert_allclose(conf, [1.0, 1.0, 0.5, 0.0])
