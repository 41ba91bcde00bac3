"""Outlier scores, flags and their combination."""

import numpy as np
import pytest

from descluster import outliers


def test_robust_z_per_group():
    values = np.array([1.0, 2, 3, 100, 10, 10, 10])
    groups = np.array([0, 0, 0, 0, 1, 1, 1])
    z = outliers.robust_z(values, groups)
    # median 2.5, MAD 1: z = (v - 2.5) / 1.4826
    np.testing.assert_allclose(z[:4], (values[:4] - 2.5) / 1.4826)
    np.testing.assert_array_equal(z[4:], 0.0)  # zero spread does not divide by zero


def test_knn_distance_excludes_self_and_finds_isolated_points():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(300, 3)), [[25.0, 25, 25]]]).astype(np.float32)
    full = outliers.knn_distance(X, n_neighbours=1, reference_sample=1000, seed=0)
    brute = np.linalg.norm(X[:, None] - X[None], axis=2)
    np.fill_diagonal(brute, np.inf)
    np.testing.assert_allclose(full, brute.min(axis=1), rtol=1e-5)
    sampled = outliers.knn_distance(X, n_neighbours=3, reference_sample=150, seed=0)
    assert np.argmax(sampled) == 300


def test_tiny_clusters():
    assert outliers.tiny_clusters([100, 100, 10, 90], 0.25).tolist() == [False, False, True, False]


def test_membership_dominates_distance():
    labels = np.array([0, 0, 0, 0, 1])
    distance = np.array([1.0, 1.1, 0.9, 1.6, 0.0])
    knn = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    z = outliers.distance_score(distance, labels, knn)
    score = outliers.model_score(z, np.array([False, True])[labels])
    assert np.argmax(score) == 4
    assert np.argsort(score)[-2] == 3  # far from its centroid: next


def test_combine_ranks_images_flagged_by_more_models_first():
    scores = np.array([[9.0, 0.0], [8.0, 8.0], [0.0, 9.0], [1.0, 1.0]])
    n_flagging, combined = outliers.combine(scores, rate=0.5)
    assert n_flagging.tolist() == [1, 2, 1, 0]
    assert np.argmax(combined) == 1
    assert outliers.flag_top(combined, 0.25).tolist() == [False, True, False, False]


def test_precision_recall():
    assert outliers.precision_recall([1, 1, 0, 0], [1, 0, 1, 0]) == pytest.approx((0.5, 0.5))
