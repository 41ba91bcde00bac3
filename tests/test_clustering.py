"""KMeans helpers and validity indices against sklearn's own functions."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from descluster import clustering
from descluster.errors import InputError


@pytest.fixture
def blobs():
    X, truth = make_blobs(n_samples=1500, centers=5, n_features=6, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), truth


def test_assign_matches_brute_force(blobs):
    X, _ = blobs
    centroids = X[:7].copy()
    labels, distances = clustering.assign(X, centroids)
    full = np.linalg.norm(X[:, None, :].astype(np.float64) - centroids[None], axis=2)
    np.testing.assert_array_equal(labels, full.argmin(axis=1))
    np.testing.assert_allclose(distances, full.min(axis=1), rtol=1e-5)


def test_validity_scores_match_sklearn(blobs):
    X, _ = blobs
    centroids = clustering.fit_kmeans(X, 5, seed=0, n_init=1, max_iter=300)
    labels, distances = clustering.assign(X, centroids)
    scores = clustering.validity_scores(X, labels, distances, seed=0, silhouette_sample=400)
    assert scores["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-9)
    assert scores["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9)
    rows = clustering.sample_rows(len(X), 400, 0)
    assert scores["silhouette"] == pytest.approx(silhouette_score(X[rows], labels[rows]), rel=1e-9)
    reference = KMeans(5, n_init=1, random_state=0).fit(X)
    assert scores["inertia"] == pytest.approx(reference.inertia_, rel=1e-3)


def test_fit_on_sample_is_reproducible_and_close(blobs):
    X, truth = blobs
    a = clustering.fit_kmeans(X, 5, seed=1, n_init=1, max_iter=300, fit_sample=500)
    b = clustering.fit_kmeans(X, 5, seed=1, n_init=1, max_iter=300, fit_sample=500)
    np.testing.assert_array_equal(a, b)
    labels, _ = clustering.assign(X, a)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, labels) > 0.95


def test_k_not_below_rows_is_refused():
    with pytest.raises(InputError, match=r"k = 10 must be below the number of rows \(10\)"):
        clustering.fit_kmeans(np.zeros((10, 2), np.float32), 10, 0, 1, 10)


def test_single_cluster_gives_nan_indices():
    X = np.ones((20, 2), np.float32)
    scores = clustering.validity_scores(X, np.zeros(20, int), np.zeros(20, np.float32), 0, 10)
    assert np.isnan(scores["calinski_harabasz"]) and scores["inertia"] == 0


def test_suggest_k_takes_lowest_davies_bouldin():
    scan = pd.DataFrame({
        "model": "m", "pca": "pca5", "n_components": 5, "k": [2, 3, 4, 5],
        "inertia": [9.0, 5, 4, 3.5], "calinski_harabasz": [100.0, 90, 120, 80],
        "davies_bouldin": [1.2, 0.8, 0.9, 0.8], "silhouette": [0.3, 0.5, 0.4, 0.45],
    })
    row = clustering.suggest_k(scan).iloc[0]
    assert row["suggested_k"] == 3  # tie at 0.8 with k=5, broken by higher Calinski-Harabasz
    assert row["best_k_calinski_harabasz"] == 4
    assert row["best_k_silhouette"] == 3
