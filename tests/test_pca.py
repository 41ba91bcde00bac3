"""Streamed PCA against sklearn's exact PCA."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from descluster import pca
from descluster.errors import InputError


def correlated_data(n=2000, d=30, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 8)) * np.linspace(5, 1, 8)
    X = latent @ rng.normal(size=(8, d)) + 0.3 * rng.normal(size=(n, d)) + 40.0  # offset tests centring
    return X.astype(np.float32)


def batches(X, size):
    return (X[i:i + size] for i in range(0, len(X), size))


def test_covariance_pca_matches_sklearn_exact_pca():
    X = correlated_data()
    reference = PCA(n_components=10, svd_solver="full").fit(X.astype(np.float64))
    fit = pca.fit_covariance_pca(batches(X, 300), n_keep=10)
    # tolerance: float32 batch products, accumulated in float64
    np.testing.assert_allclose(fit.explained_variance[:10], reference.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(fit.explained_variance_ratio[:10],
                               reference.explained_variance_ratio_, rtol=1e-4)
    np.testing.assert_allclose(fit.mean, reference.mean_, rtol=1e-6)
    cosines = np.abs(np.sum(fit.components * reference.components_, axis=1))
    assert cosines.min() > 1 - 1e-5
    assert fit.n_samples == 2000
    assert len(fit.explained_variance) == 30  # the whole curve


def test_batch_size_does_not_change_the_fit():
    X = correlated_data()
    a = pca.fit_covariance_pca(batches(X, 2000), n_keep=5)
    b = pca.fit_covariance_pca(batches(X, 97), n_keep=5)
    # float32 sums in other batches: agree to 1e-4 of the leading variance (noise-level
    # eigenvalues differ by more than 1e-4 of themselves on some BLAS kernels)
    np.testing.assert_allclose(a.explained_variance, b.explained_variance, rtol=1e-4,
                               atol=1e-4 * a.explained_variance[0])
    assert np.abs(np.sum(a.components * b.components, axis=1)).min() > 1 - 1e-5


def test_signs_are_deterministic():
    fit = pca.fit_covariance_pca(batches(correlated_data(), 500), n_keep=4)
    rows = np.arange(4)
    assert (fit.components[rows, np.argmax(np.abs(fit.components), axis=1)] > 0).all()


def test_incremental_and_covariance_agree_on_leading_components():
    X = correlated_data(seed=3)
    cov = pca.fit_covariance_pca(batches(X, 256), n_keep=5)
    inc = pca.fit_incremental_pca(batches(X, 256), n_keep=5)
    assert inc.method == "incremental"
    np.testing.assert_allclose(inc.explained_variance, cov.explained_variance[:5], rtol=1e-3)
    assert np.abs(np.sum(inc.components * cov.components, axis=1)).min() > 0.999


def test_incremental_merges_a_short_last_batch():
    X = correlated_data(n=1030)  # last batch of 30 rows < 40 components
    fit = pca.fit_incremental_pca(batches(X, 100), n_keep=25)
    assert fit.n_samples == 1030


def test_transform_matches_sklearn():
    X = correlated_data()
    reference = PCA(n_components=6, svd_solver="full").fit(X.astype(np.float64))
    fit = pca.fit_covariance_pca(batches(X, 400), n_keep=6)
    reduced = np.concatenate(list(pca.transform_batches(batches(X, 400), fit, 6)))
    expected = reference.transform(X.astype(np.float64))
    signs = np.sign(np.sum(reduced * expected, axis=0))
    np.testing.assert_allclose(reduced * signs, expected, atol=1e-3 * np.abs(expected).max())


def test_variants_resolve():
    fit = pca.fit_covariance_pca(batches(correlated_data(), 500), n_keep=30)
    cumulative = np.cumsum(fit.explained_variance_ratio)
    n = pca.resolve_variant(0.9, fit)
    assert cumulative[n - 1] >= 0.9 > cumulative[n - 2]
    assert pca.resolve_variant(7, fit) == 7
    assert pca.components_to_fit([7, 3], 2000, 30, 500, "covariance") == 7
    assert pca.components_to_fit([7, 0.9], 2000, 30, 500, "covariance") == 30
    assert pca.components_to_fit([0.9], 2000, 300, 100, "incremental") == 100


def test_variant_above_columns_is_refused():
    with pytest.raises(InputError, match=r"cfg: PCA variant\(s\) \[40\] ask for more components.*at most 30"):
        pca.check_variants([5, 40, 0.9], n_rows=100, n_cols=30, source="cfg")


def test_fraction_not_reached_by_incremental_fit():
    fit = pca.fit_incremental_pca(batches(correlated_data(), 500), n_keep=2)
    with pytest.raises(InputError, match="fraction 0.99 is not reached by the 2 fitted components"):
        pca.resolve_variant(0.99, fit)


def test_fit_round_trips(tmp_path):
    fit = pca.fit_covariance_pca(batches(correlated_data(), 500), n_keep=3)
    pca.save_fit(fit, tmp_path / "pca.npz")
    loaded = pca.load_fit(tmp_path / "pca.npz")
    np.testing.assert_array_equal(loaded.components, fit.components)
    assert loaded.method == "covariance" and loaded.n_samples == fit.n_samples
