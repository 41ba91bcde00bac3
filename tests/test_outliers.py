"""Outlier scores, flags and their combination; on real defects when the tuning set is there."""

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_snakemake, write_config
from descluster import outliers
from descluster.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[1]
MVTEC = REPO_ROOT.parent / "shared" / "real" / "mvtec-ad-resnet18"
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import outliers_real  # noqa: E402 - the benchmark's way of running the workflow's scoring


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


# --- the ensemble score -------------------------------------------------------------------

def _brute_distances(points, reference_rows, k):
    """Sorted distances (n, k) to the nearest reference rows by brute force, self excluded."""
    full = np.linalg.norm(points[:, None, :] - points[reference_rows][None], axis=2)
    full[reference_rows, np.arange(len(reference_rows))] = np.inf
    return np.sort(full, axis=1)[:, :k]


@pytest.mark.parametrize("width", [2, 30])  # a k-d tree answers in 3 dimensions, BLAS in 31
def test_nearest_neighbours_are_exact_and_exclude_the_row_itself(width):
    rng = np.random.default_rng(width)
    X = rng.normal(size=(700, width)).astype(np.float32)
    residual = (rng.random(700) * 3).astype(np.float32)
    X[5], residual[5] = X[6], residual[6]  # a duplicate: a neighbour at 0, not dropped as "self"
    reference = np.sort(rng.choice(700, 300, replace=False))
    reference = np.union1d(reference, [5, 6])
    distances, positions = outliers.nearest_neighbours(X, residual, reference, 12)
    assert distances.shape == positions.shape == (700, 12)
    assert distances.dtype == np.float32 and positions.dtype == np.int32
    space = np.column_stack([X, residual]).astype(np.float64)
    expected = _brute_distances(space, reference, 12)
    np.testing.assert_allclose(distances, expected, rtol=1e-5, atol=1e-5)
    # the positions are those neighbours (rows 5 and 6 tie, so compare their distances)
    found = np.linalg.norm(space[:, None, :] - space[reference[positions]], axis=2)
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-5)
    six = np.searchsorted(reference, 6)
    assert positions[5, 0] == six and distances[5, 0] == 0.0


def test_nearest_neighbours_need_more_reference_rows_than_neighbours():
    X = np.zeros((5, 2), dtype=np.float32)
    with pytest.raises(InputError, match="5 neighbours need more than 5 images"):
        outliers.nearest_neighbours(X, None, np.arange(5), 5)


def test_local_outlier_factor_is_scikit_learns_with_all_rows_as_reference():
    from sklearn.neighbors import LocalOutlierFactor

    X = np.random.default_rng(1).normal(size=(400, 5)).astype(np.float32)
    rows = np.arange(400)
    distances, positions = outliers.nearest_neighbours(X, None, rows, 20)
    ours = outliers.local_outlier_factor(distances, positions, rows, 20)
    theirs = -LocalOutlierFactor(n_neighbors=20).fit(X).negative_outlier_factor_
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_residual_norms_are_the_distance_to_the_subspace():
    rng = np.random.default_rng(2)
    batch = rng.normal(size=(50, 6)).astype(np.float32)
    mean = batch.mean(axis=0)
    axes = np.linalg.svd(batch - mean, full_matrices=False)[2].astype(np.float32)
    kept = axes[:2]
    centred = batch - mean
    expected = np.linalg.norm(centred - centred @ kept.T @ kept, axis=1)
    norms = outliers.residual_norms(batch, mean, kept)
    assert norms.dtype == np.float32 and norms.shape == (50,)
    np.testing.assert_allclose(norms, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outliers.residual_norms(batch, mean, axes), 0.0, atol=1e-5)
    projected = (batch - mean) @ kept.T
    np.testing.assert_allclose(outliers.residual_norms(batch, mean, kept, projected), norms,
                               rtol=1e-5, atol=1e-6)


def test_gaussian_distance_is_the_probabilistic_pca_mahalanobis_distance():
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(200, 3)) * [3.0, 2.0, 1.0]).astype(np.float32)
    residual = rng.random(200).astype(np.float32)
    variance = X.astype(np.float64).var(axis=0)
    centred = X - X.astype(np.float64).mean(axis=0)
    expected = (centred ** 2 / variance).sum(axis=1)
    np.testing.assert_allclose(outliers.gaussian_distance(X, None, 10), expected, rtol=1e-6)
    per_axis = np.mean(residual.astype(np.float64) ** 2) / (10 - 3)
    np.testing.assert_allclose(outliers.gaussian_distance(X, residual, 10),
                               expected + residual.astype(np.float64) ** 2 / per_axis, rtol=1e-6)


def test_outlier_score_ranks_an_isolated_row_first_and_is_deterministic():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 12)).astype(np.float32)
    X[17] += 6.0
    residual = rng.random(400).astype(np.float32)
    score = outliers.outlier_score(X, residual, 40, n_neighbours=10, reference_sample=250, seed=0)
    assert score.shape == (400,) and score.dtype == np.float64
    assert np.argmax(score) == 17
    again = outliers.outlier_score(X, residual, 40, n_neighbours=10, reference_sample=250, seed=0)
    np.testing.assert_array_equal(score, again)
    parts = outliers.detector_scores(X, residual, 40, 10, 250, 0)
    assert set(parts) == {"lof", "lof_wide", "gaussian"}
    assert all(abs(np.median(values)) < 1e-9 for values in parts.values())  # robust z


def test_outlier_score_names_the_setting_when_there_are_too_few_images():
    X = np.zeros((15, 3), dtype=np.float32)
    with pytest.raises(InputError, match="'outliers.neighbours' = 10 needs more than 20 images"):
        outliers.outlier_score(X, None, 3, n_neighbours=10, reference_sample=20000, seed=0)


def test_tail_flags_by_rate_or_by_the_robust_tail():
    scores = np.concatenate([np.linspace(-1, 1, 96), [8.0, 9.0, 10.0, 1.5]])
    flags, rate = outliers.tail_flags(scores)
    assert flags[96:99].all() and flags.sum() == 3 and rate == pytest.approx(0.03)
    assert 1.5 < outliers.tail_threshold(scores) < 8.0
    flags, rate = outliers.tail_flags(scores, rate=0.05)
    assert flags.sum() == 5 and rate == pytest.approx(0.05)
    assert flags[99]  # 1.5 is fifth highest
    assert outliers.tail_threshold(scores, rate=0.05) == 1.0


def test_combine_variants_puts_suspicious_clusters_first_then_the_mean():
    scores = np.array([[0.0, 0.0], [5.0, 5.0], [9.0, -1.0], [1.0, 1.0], [-1.0, 0.5], [0.5, -0.5]])
    suspicious = np.zeros(scores.shape, dtype=bool)
    suspicious[3, 1] = True
    combined = outliers.combine_variants(scores, suspicious)
    assert combined.shape == (6,) and combined.dtype == np.float64
    assert np.argsort(-combined)[:3].tolist() == [3, 1, 2]
    # one column: its robust z, the same order
    single = outliers.combine_variants(scores[:, :1], suspicious[:, :1])
    assert np.argsort(-single, kind="stable").tolist() == np.argsort(-scores[:, 0], kind="stable").tolist()


# --- on real defects: the tuning set (MVTec-AD by ResNet-18) -----------------------------

@pytest.fixture(scope="module")
def mvtec():
    if not MVTEC.is_dir():
        pytest.skip(f"the outlier tuning set is not at {MVTEC} (shared/real beside the repository)")
    return MVTEC


@pytest.mark.parametrize("category", ["cable", "zipper"])
def test_the_score_beats_the_plain_knn_distance_on_real_defects(mvtec, category):
    # at the rates given (25 and 30 % defective), the workflow's default PCA to 90 %:
    # 0.791 vs 0.750 and 0.890 vs 0.854 measured. Not in every category: at these rates
    # it is above the kNN distance in 10 of 15 (below on leather, bottle, carpet, where
    # kNN reaches 0.77 to 0.995), and in 3 cases of 4 over the benchmark's 60
    X, is_defect = outliers_real.load_category(mvtec / category)
    scores, _, _ = outliers_real.workflow_scores(X, [0.9])
    ours = roc_auc_score(is_defect, scores["workflow"][0])
    knn = roc_auc_score(is_defect, outliers_real.knn_baseline(X))
    assert ours > knn + 0.02
    assert ours > roc_auc_score(is_defect, scores["former"][0])


@pytest.mark.parametrize("category", ["metal_nut", "wood"])
def test_combining_two_variants_is_never_below_the_worse_and_near_the_better(mvtec, category):
    # measured over the 60 cases: never below the worse variant, at most 0.035 below the
    # better (median 0.004 below); not always at least the better one (docs/outliers.md)
    X, is_defect = outliers_real.load_category(mvtec / category)
    scores, _, _ = outliers_real.workflow_scores(X, [0.9, 0.99])
    combined = roc_auc_score(is_defect, scores["workflow"][0])
    singles = [roc_auc_score(is_defect, scores[name][0]) for name in ("var0.9", "var0.99")]
    assert min(singles) <= combined
    assert combined >= max(singles) - 0.035


@pytest.mark.slow
def test_the_data_driven_cut_finds_a_rate_near_the_truth_at_5_percent(mvtec):
    # every category's good rows plus defects making 5 % (seed 0), the benchmark's two
    # variants: the robust tail cut flagged 4.7 % in median over the 15 (quartiles of all
    # 45 benchmark draws 3.2, 4.8, 6.6 %, extremes 1.8 and 17.1 %); tolerance +-1.5 points
    # on the median, every case within 1 to 20 %
    found = []
    for category, rate, seed, X, is_defect in outliers_real.cases(mvtec, n_seeds=1):
        if rate == "given":
            continue
        _, flags, share = outliers_real.workflow_scores(X, [0.9, 0.99])
        assert share == pytest.approx(flags.mean())
        assert 0.01 <= share <= 0.2, category
        found.append(share)
    assert len(found) == 15
    assert np.median(found) == pytest.approx(0.05, abs=0.015)


def test_outlier_marks_as_the_only_ground_truth_run_to_the_end(demo_run, tmp_path):
    """A ground truth whose only column is `outlier`: the outlier scores are measured, the
    validation says there is nothing to validate and writes empty tables with their headers,
    and the browser is built."""
    source, config, _ = demo_run
    workdir = tmp_path / "run"
    shutil.copytree(source, workdir, symlinks=True)
    truth = pd.read_csv(workdir / "results" / "demo" / "attributes.csv", dtype=str,
                        keep_default_na=False)[["paths", "outlier"]]
    truth.to_csv(workdir / "outliers_only.csv", index=False)
    write_config(workdir / "config.yaml", {**config, "attributes": ["outliers_only.csv"]})
    run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")

    summary = pd.read_csv(workdir / "results" / "summary" / "outliers.tsv", sep="\t")
    combined = summary[(summary["scope"] == "combined") & (summary["kind"] == "all")]
    assert len(combined) == 1 and combined["n_true"].iloc[0] == (truth["outlier"] != "none").sum()
    assert combined["recall"].notna().all()
    for table in ("validation.tsv", "model_ranking.tsv", "recommended.tsv"):
        frame = pd.read_csv(workdir / "results" / "summary" / table, sep="\t")
        assert frame.empty and len(frame.columns) > 3, table
    log = (workdir / "results" / "logs" / "validate_clusterings.log").read_text(encoding="utf-8")
    assert "no attribute to validate" in log
    assert (workdir / "results" / "report" / "index.html").is_file()
    assert (workdir / "results" / "report" / "outliers.html").is_file()
