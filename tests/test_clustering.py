"""KMeans helpers and validity indices against sklearn's own functions."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.metrics import (adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score,
                             silhouette_score)

from descluster import clustering, evaluate
from descluster.errors import InputError
from descluster.steps.kmeans import cluster_kmeans


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
    centroids = clustering.fit_kmeans(X, 5, seed=0, n_init=1, max_iter=300).centroids
    labels, distances = clustering.assign(X, centroids)
    scores = clustering.validity_scores(X, labels, distances, seed=0, silhouette_sample=400)
    assert scores["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-5)
    assert scores["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-5)
    rows = clustering.sample_rows(len(X), 400, 0)
    assert scores["silhouette"] == pytest.approx(silhouette_score(X[rows], labels[rows]), rel=1e-5)
    assert scores["inertia"] == pytest.approx(((X - centroids[labels]) ** 2).sum(), rel=1e-5)


def test_indices_match_sklearn_on_overlapping_clusters_with_gaps_in_labels():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(900, 12)).astype(np.float32)
    labels = rng.choice([0, 2, 5, 6, 9], size=900)  # labels 1, 3, 4, 7, 8 unused
    labels[:2] = [11, 12]  # two singleton clusters: silhouette 0 for them
    scores = clustering.validity_scores(X, labels, np.ones(900, np.float32), 0, 0)
    assert scores["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-5)
    assert scores["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-5)
    assert scores["silhouette"] == pytest.approx(silhouette_score(X, labels), rel=1e-5)


@pytest.fixture(scope="module")
def overlapping():
    """Twelve overlapping blobs: many local optima for k below 12."""
    X, _ = make_blobs(n_samples=4000, centers=12, n_features=10, cluster_std=2.5, random_state=8)
    return X.astype(np.float32)


def _inertia(X, centroids):
    return float((clustering.assign(X, centroids)[1].astype(np.float64) ** 2).sum())


@pytest.mark.parametrize("k", [3, 8, 20])
def test_lloyd_converges_where_sklearn_does_from_the_same_start(overlapping, k):
    X = overlapping
    start = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
    tol = 1e-4 * float(np.var(X, axis=0).mean())
    ours, _, converged = clustering.lloyd(X, start, max_iter=300, tol=tol)
    assert converged
    theirs = KMeans(k, init=start, n_init=1).fit(X)
    np.testing.assert_array_equal(clustering.assign(X, ours)[0], theirs.labels_)
    assert _inertia(X, ours) == pytest.approx(theirs.inertia_, rel=1e-5)


def test_kmeans_plusplus_seeds_as_well_as_sklearn(overlapping):
    X = overlapping
    norms = np.einsum("ij,ij->i", X, X)
    ours = [_inertia(X, clustering.kmeans_plusplus(X, 8, np.random.default_rng(seed), norms))
            for seed in range(100)]
    theirs = [_inertia(X, kmeans_plusplus(X, 8, random_state=seed)[0]) for seed in range(100)]
    # one seeding varies by about 4 %; the mean of 100 by about 0.4 %
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.02)


def test_kmeans_recovers_separated_clusters_and_is_reproducible(blobs):
    X, truth = blobs
    fits = [clustering.fit_kmeans(X, 5, seed=seed, n_init=3, max_iter=300, fit_sample=500).centroids
            for seed in range(5)]
    for centroids in fits:
        assert adjusted_rand_score(truth, clustering.assign(X, centroids)[0]) == 1.0
    again = clustering.fit_kmeans(X, 5, seed=0, n_init=3, max_iter=300, fit_sample=500).centroids
    np.testing.assert_array_equal(fits[0], again)
    assert not np.array_equal(fits[0], fits[1])  # another seed, another sample


def test_kmeans_plusplus_picks_distinct_rows():
    X, _ = make_blobs(n_samples=600, centers=6, n_features=4, random_state=0)
    X = X.astype(np.float32)
    centroids = clustering.kmeans_plusplus(X, 6, np.random.default_rng(0), np.einsum("ij,ij->i", X, X))
    rows = [np.flatnonzero((X == c).all(axis=1)) for c in centroids]
    assert all(len(r) == 1 for r in rows) and len({int(r[0]) for r in rows}) == 6


def test_lloyd_moves_an_empty_cluster_to_the_farthest_row():
    X = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [50, 50]], dtype=np.float32)
    start = np.array([[0, 0], [10, 10], [1000, 1000]], dtype=np.float32)  # third starts empty
    centroids, _, _ = clustering.lloyd(X, start, max_iter=50, tol=0.0)
    labels, _ = clustering.assign(X, centroids)
    assert np.bincount(labels, minlength=3).tolist() == [3, 2, 1]
    np.testing.assert_allclose(centroids[2], [50, 50])


def test_relocated_row_leaves_its_old_cluster_as_in_sklearn():
    # the far row (50, 50) first belongs to cluster 1; the empty cluster 2 takes it, and
    # cluster 1's mean must no longer count it (one iteration, compared with sklearn's)
    X = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [50, 50], [51, 50]], dtype=np.float32)
    start = np.array([[0, 0], [10, 10], [1000, 1000], [-1000, -1000]], dtype=np.float32)
    ours, n_iter, converged = clustering.lloyd(X, start, max_iter=1, tol=0.0)
    theirs = KMeans(4, init=start, n_init=1, max_iter=1, tol=0.0).fit(X).cluster_centers_
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert (n_iter, converged) == (1, False)


def test_nothing_moves_when_every_row_sits_on_its_centroid():
    X = np.repeat(np.array([[0, 0], [5, 5]], dtype=np.float32), 5, axis=0)
    start = np.array([[0, 0], [5, 5], [100, 100]], dtype=np.float32)  # third stays empty
    centroids, _, converged = clustering.lloyd(X, start, max_iter=10, tol=0.0)
    assert converged
    np.testing.assert_array_equal(centroids, start)


def test_fewer_distinct_rows_than_clusters_still_fits_and_names_the_empty_ones():
    X = np.repeat(np.array([[0, 0], [5, 5]], dtype=np.float32), 50, axis=0)
    fit = clustering.fit_kmeans(X, 4, seed=0, n_init=2, max_iter=20)
    labels, distances = clustering.assign(X, fit.centroids)
    assert np.all(distances == 0) and len(np.unique(labels)) == 2
    assert len(fit.empty_clusters) == 2 and set(fit.empty_clusters).isdisjoint(labels)


def test_scan_sample_grows_with_k():
    assert clustering.scan_fit_rows(2, 256, 10000) == 10000
    assert clustering.scan_fit_rows(50, 256, 10000) == 12800
    assert clustering.scan_fit_rows(50, 0, 10000) == 0


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


def test_a_given_start_is_never_made_worse(overlapping):
    """The final clusterings start one run from the k-scan's centroids: the fit keeps the
    best of all runs, so its inertia is never above that start's."""
    X = overlapping
    for k in (5, 9):
        scan = clustering.fit_kmeans(X, k, seed=1, n_init=8, max_iter=300, fit_sample=600)
        scan_inertia = clustering.inertia(X, scan.centroids)
        few = clustering.fit_kmeans(X, k, seed=2, n_init=1, max_iter=300)
        # two runs: one from the scan's centroids, one from the same k-means++ draw as `few`
        final = clustering.fit_kmeans(X, k, seed=2, n_init=2, max_iter=300, init=[scan.centroids])
        assert final.init_inertias == (scan_inertia,)
        assert final.inertia <= scan_inertia
        assert final.inertia <= few.inertia
        assert final.inertia == clustering.inertia(X, final.centroids)
        assert final.n_iter >= 0 and final.converged


def test_restarts_land_in_different_optima(overlapping):
    """The data of the test above really has several optima (else it proves nothing)."""
    X = overlapping
    inertias = {round(clustering.fit_kmeans(X, 9, seed=s, n_init=1, max_iter=300).inertia)
                for s in range(6)}
    assert len(inertias) > 1


def _plain_lloyd(X, centroids, max_iter, tol):
    """Lloyd with a full assignment in every iteration (the reference for the bounded one)."""
    previous = None
    for n_iter in range(1, max_iter + 1):
        labels, _ = clustering.assign(X, centroids)
        if previous is not None and np.array_equal(labels, previous):
            return centroids, n_iter
        counts = np.bincount(labels, minlength=len(centroids))
        sums = clustering._cluster_sums(X, labels, len(centroids))
        updated = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        updated[counts == 0] = centroids[counts == 0]
        shift = float(((updated - centroids.astype(np.float64)) ** 2).sum())
        centroids, previous = updated, labels
        if shift <= tol:
            return centroids, n_iter
    return centroids, max_iter


@pytest.mark.parametrize("k", [5, 30])
def test_bounded_lloyd_takes_the_steps_of_plain_lloyd(overlapping, k, monkeypatch):
    """Skipping rows whose label cannot change (Hamerly's bounds) changes nothing but
    rounding: the same iterations, the same labels, centroids equal to float32 precision."""
    X = overlapping
    start = X[np.random.default_rng(k).choice(len(X), k, replace=False)]
    tol = 1e-4 * float(np.var(X, axis=0).mean())
    full_passes = []
    full_assignment = clustering._full_assignment
    monkeypatch.setattr(clustering, "_full_assignment",
                        lambda *args: full_passes.append(1) or full_assignment(*args))
    ours, n_iter, _ = clustering.lloyd(X, start, max_iter=300, tol=tol)
    assert len(full_passes) < n_iter  # some iterations assigned only the uncertain rows
    monkeypatch.undo()
    plain, plain_iter = _plain_lloyd(X, start, 300, tol)
    assert n_iter == plain_iter
    np.testing.assert_array_equal(clustering.assign(X, ours)[0], clustering.assign(X, plain)[0])
    np.testing.assert_allclose(ours, plain, rtol=1e-5, atol=1e-5)


def test_memory_mapped_input_gives_byte_identical_results(overlapping, tmp_path):
    """The jobs read the reduced matrix as a read-only memory map, chunk by chunk."""
    np.save(tmp_path / "reduced.npy", overlapping)
    mapped = np.load(tmp_path / "reduced.npy", mmap_mode="r")
    for X in (overlapping, mapped):
        fit = clustering.fit_kmeans(X, 6, seed=0, n_init=2, max_iter=300, fit_sample=1000)
        labels, distances, sums = clustering.assign(X, fit.centroids, with_sums=True)
        if X is overlapping:
            expected = (fit.centroids, labels, distances, sums)
    for ours, theirs in zip((fit.centroids, labels, distances, sums), expected):
        np.testing.assert_array_equal(ours, theirs)
    assert not mapped.flags.writeable


def test_assign_sums_clusters_in_the_same_pass(blobs):
    X, _ = blobs
    centroids = X[:6].copy()
    labels, distances, sums = clustering.assign(X, centroids, with_sums=True)
    np.testing.assert_array_equal((labels, distances), clustering.assign(X, centroids))
    np.testing.assert_allclose(sums, clustering._cluster_sums(X, labels, 6), rtol=1e-6)
    given = clustering.validity_scores(X, labels, distances, 0, 300, sums=sums)
    assert given == pytest.approx(clustering.validity_scores(X, labels, distances, 0, 300), rel=1e-6)


def test_fit_on_all_rows_returns_their_assignment_and_the_start_inertias(overlapping):
    X = overlapping
    start = X[:7].copy()
    fit = clustering.fit_kmeans(X, 7, seed=0, n_init=1, max_iter=300, init=[start])
    labels, distances = clustering.assign(X, fit.centroids)
    np.testing.assert_array_equal(fit.labels, labels)
    np.testing.assert_array_equal(fit.distances, distances)
    assert fit.init_inertias == (clustering.inertia(X, start),)


def test_scan_kmeans_is_reproducible_and_finds_separated_clusters(blobs):
    X, truth = blobs
    fits = [clustering.scan_kmeans(X, 5, seed=0, n_init=4, max_iter=300, fit_sample=800)
            for _ in range(2)]
    np.testing.assert_array_equal(fits[0].centroids, fits[1].centroids)
    assert adjusted_rand_score(truth, clustering.assign(X, fits[0].centroids)[0]) == 1.0
    assert len(fits[0].labels) == 800  # fitted (and its n_iter counted) on the scan's sample


def test_final_clustering_keeps_the_scans_guarantee_and_says_which_start_won(tmp_path, overlapping):
    """The final runs Lloyd on all rows from the k-scan's centroids and from scan-like fits
    with other seeds: never above the scan's inertia."""
    X = overlapping
    np.save(tmp_path / "reduced.npy", X)
    pd.DataFrame({"paths": [f"{i}.jpg" for i in range(len(X))]}).to_parquet(tmp_path / "images.parquet")
    for k in (5, 9):
        scan = clustering.scan_kmeans(X, k, seed=1, n_init=8, max_iter=300, fit_sample=600)
        np.save(tmp_path / "scan.npy", scan.centroids)
        out = {name: tmp_path / f"k{k}_{name}" for name in ("assignments.parquet", "centroids.npy",
                                                             "sizes.tsv", "fit.tsv")}
        cluster_kmeans(reduced_npy=tmp_path / "reduced.npy", images_parquet=tmp_path / "images.parquet",
                       model="m", variant="pca10", k=k, seed=0, n_init=3, max_iter=300, scan_n_init=4,
                       scan_rows=600, out_assignments=out["assignments.parquet"],
                       out_centroids=out["centroids.npy"], out_sizes=out["sizes.tsv"],
                       out_fit=out["fit.tsv"], scan_centroids=tmp_path / "scan.npy")
        fit = pd.read_csv(out["fit.tsv"], sep="\t").iloc[0]
        assert fit["inertia"] <= fit["kscan_inertia"]
        assert fit["kscan_inertia"] == pytest.approx(clustering.inertia(X, scan.centroids), rel=1e-5)
        assert fit["start"] in ("k-scan centroids", "k-means++")
        assert fit["inertia"] == pytest.approx(clustering.inertia(X, np.load(out["centroids.npy"])), rel=1e-5)


def test_purity_of_codes_needs_no_sort_and_agrees_with_any_values():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, size=500)
    codes = rng.integers(-1, 4, size=500)
    words = np.array(["a", "b", "c", "d"])
    known = codes >= 0
    expected = evaluate.purity(words[codes[known]], labels[known] + 100)  # sorted, renumbered
    assert evaluate.purity_by_attribute(labels, {"x": codes})["x"] == expected


def test_small_samples_are_screened_on_all_their_rows(overlapping, monkeypatch):
    """Below 2,500 rows the scan's restarts run on the whole sample, as an unscreened fit:
    a quarter of a small data set would leave too few rows per cluster."""
    X = overlapping[:2000]
    for k in (4, 9):
        screened = clustering.scan_kmeans(X, k, seed=3, n_init=4, max_iter=300, fit_sample=0)
        plain = clustering.fit_kmeans(X, k, seed=3, n_init=4, max_iter=300)
        np.testing.assert_array_equal(screened.centroids, plain.centroids)
        assert (screened.inertia, screened.n_iter) == (plain.inertia, plain.n_iter)
    # larger samples: the restarts on a quarter of them, at least 2,500 rows
    fitted_rows = []
    fit_kmeans = clustering.fit_kmeans
    monkeypatch.setattr(clustering, "fit_kmeans",
                        lambda X, k, seed, n_init, max_iter, fit_sample, **kw:
                        fitted_rows.append((n_init, fit_sample))
                        or fit_kmeans(X, k, seed, n_init, max_iter, fit_sample, **kw))
    clustering.scan_kmeans(overlapping, 9, seed=3, n_init=4, max_iter=300, fit_sample=0)
    many = np.random.default_rng(0).normal(size=(16000, 4)).astype(np.float32)
    clustering.scan_kmeans(many, 3, seed=3, n_init=4, max_iter=300, fit_sample=12000)
    assert fitted_rows == [(4, 2500), (1, 4000), (4, 3000), (1, 12000)]
