"""What a review page lists and in which order it reads them (site.review_lists): the
disagreements with another labelled clustering first when there are any, least sure first
within each list; the benchmark (benchmarks/review_gain.py) reads the same order."""

import sys

import numpy as np
import pandas as pd

from conftest import REPO_ROOT
from descluster import labels, site

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import review_gain  # noqa: E402

NAME, OTHER = "m/pca4/k3", "o/pca4/k2"
CLUSTERS = np.array([0, 0, 1, 1, 2, 2])
CONFIDENCE = np.array([0.9, 0.1, 0.8, 0.2, 0.5, 0.3])


def lists(others):
    label_file = labels.LabelFile({"type": {0: "a", 1: "b", 2: "a"}}, set(), [])
    value = np.array(["a", "a", "b", "b", "a", "a"], dtype=object)
    table = pd.DataFrame({"type": value, "type_source": NAME, "type_confidence": CONFIDENCE})
    return site.review_lists(NAME, label_file, CLUSTERS, table, others, {})[0]


def test_the_disagreements_are_read_first_least_sure_first():
    other = labels.LabelFile({"type": {0: "a", 1: "b"}}, set(), [])
    listed = lists([(OTHER, other, np.array([0, 0, 0, 1, 1, 1]))])
    assert listed["order"] == ["disagree", "low"]
    assert listed["disagree"]["rows"] == [5, 4, 2]  # the two clusterings differ here
    assert listed["disagree"]["otherValue"] == ["b", "b", "a"]
    assert listed["low"]["rows"] == [1, 3, 5, 4, 2, 0]


def test_without_another_labelled_clustering_the_least_sure_come_first():
    listed = lists([])
    assert listed["order"] == ["low", "disagree"] and listed["disagree"]["rows"] == []
    assert listed["low"]["rows"] == [1, 3, 5, 4, 2, 0]


def test_the_benchmark_reads_the_pages_order():
    # two blobs per value; the second clustering splits them otherwise: its disagreements
    # are the images the page shows first, and they hold the errors
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [4, 0], [0, 4], [4, 4]], dtype=np.float32)
    blob = rng.integers(0, 4, size=2000)
    Z = (centres[blob] + rng.normal(0, 1.2, size=(2000, 2))).astype(np.float32)
    truth = np.array(["a", "a", "b", "b"], dtype=object)[blob]
    _, cluster, centroids = next(review_gain.clusterings(Z, [4]))
    _, other, _ = next(review_gain.clusterings(Z[:, ::-1].copy(), [3]))
    alone = review_gain.review_gain(Z, cluster, centroids, truth, "colour", 0.02)
    both = review_gain.review_gain(Z, cluster, centroids, truth, "colour", 0.02, other)
    assert alone["review_gain"] == alone["low_gain"]  # no second clustering: least sure
    assert both["low_gain"] == alone["low_gain"]
    assert both["review_gain"] <= both["ceiling"]
    assert 0 <= both["agree_gain"] <= both["ceiling"]
    assert 0 <= both["combined_gain"] <= both["ceiling"]


def test_an_empty_list_says_why():
    # without another labelled clustering: no disagreement, and the sentence says so
    listed = lists([])
    assert listed["disagree"]["why"] == "no other labelled clustering names type."
    assert listed["low"]["why"] == ""  # not empty: nothing to explain
    # every image's type from a clustering listed first: no least sure here
    label_file = labels.LabelFile({"type": {0: "a", 1: "b", 2: "a"}}, set(), [])
    table = pd.DataFrame({"type": ["a"] * 6, "type_source": OTHER,
                          "type_confidence": CONFIDENCE})
    other = labels.LabelFile({"type": {0: "a"}}, set(), [])
    same = site.review_lists(NAME, label_file, CLUSTERS, table,
                             [(OTHER, other, np.zeros(6, dtype=int))], {})[0]
    assert same["low"]["rows"] == [] and OTHER in same["low"]["why"]
    assert "under labels:" in same["low"]["why"]
    assert same["disagree"]["rows"] == [3, 2]  # cluster 1 (b here, a there)
    # another clustering naming every image alike
    agree = site.review_lists(NAME, label_file, CLUSTERS, table,
                              [(OTHER, label_file, CLUSTERS)], {})[0]
    assert agree["disagree"]["rows"] == []
    assert agree["disagree"]["why"].startswith(f"{OTHER} names type as this clustering does")
