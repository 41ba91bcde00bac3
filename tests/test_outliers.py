"""Outlier scores, flags and their combination; on real defects when the tuning set is there."""

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_snakemake, write_config
from descluster import clustering, outliers
from descluster import pca as pca_fits
from descluster.errors import InputError
from descluster.steps import ingest, pca
from descluster.steps import outliers as outlier_steps

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


def test_former_knn_distance_excludes_self_and_finds_isolated_points():
    # the benchmark's former score (the workflow's until issue 20)
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(300, 3)), [[25.0, 25, 25]]]).astype(np.float32)
    full = outliers_real.knn_distance(X, n_neighbours=1, reference_sample=1000, seed=0)
    brute = np.linalg.norm(X[:, None] - X[None], axis=2)
    np.fill_diagonal(brute, np.inf)
    np.testing.assert_allclose(full, brute.min(axis=1), rtol=1e-5)
    sampled = outliers_real.knn_distance(X, n_neighbours=3, reference_sample=150, seed=0)
    assert np.argmax(sampled) == 300


def test_tiny_clusters():
    assert outliers.tiny_clusters([100, 100, 10, 90], 0.25).tolist() == [False, False, True, False]


def test_former_score_membership_dominates_distance():
    labels = np.array([0, 0, 0, 0, 1])
    distance = np.array([1.0, 1.1, 0.9, 1.6, 0.0])
    knn = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    z = outliers_real.distance_score(distance, labels, knn)
    score = outliers.model_score(z, np.array([False, True])[labels])
    assert np.argmax(score) == 4
    assert np.argsort(score)[-2] == 3  # far from its centroid: next


def test_former_combination_ranks_images_flagged_by_more_models_first():
    scores = np.array([[9.0, 0.0], [8.0, 8.0], [0.0, 9.0], [1.0, 1.0]])
    n_flagging, combined = outliers_real.combine(scores, rate=0.5)
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


@pytest.mark.parametrize("n_reference", [13, 25, 40, 161, 1000])  # 1 to 16 rows per block,
def test_blas_candidates_are_the_nearest_rows_whatever_the_blocks(n_reference):  # padded or not
    rng = np.random.default_rng(n_reference)
    reference = rng.normal(size=(n_reference, 12)).astype(np.float32)
    rows = rng.normal(size=(50, 12)).astype(np.float32)
    want = 12
    found = outliers._blas_candidates(reference, want)(rows)
    assert found.shape == (50, want) and found.max() < n_reference
    squared = ((rows[:, None, :].astype(np.float64) - reference[None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(np.sort(np.take_along_axis(squared, found, axis=1), axis=1),
                               np.sort(squared, axis=1)[:, :want], rtol=1e-4)


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


def test_largest_local_outlier_factor_is_the_maximum_over_k_half_to_2k():
    from sklearn.neighbors import LocalOutlierFactor

    assert list(outliers.neighbourhood_sizes(10)) == list(range(5, 21))
    assert list(outliers.neighbourhood_sizes(1)) == [1, 2]
    rng = np.random.default_rng(1)
    # a tight group of 8 far from the bulk: LOF at 20 sees it, LOF at 5 does not
    X = np.vstack([rng.normal(size=(392, 5)), rng.normal(size=(8, 5)) * 0.05 + 4.0]).astype(np.float32)
    rows = np.arange(400)
    distances, positions = outliers.nearest_neighbours(X, None, rows, 20)
    ours = outliers.largest_local_outlier_factor(distances, positions, rows, range(5, 21))
    theirs = np.max([-LocalOutlierFactor(n_neighbors=k).fit(X).negative_outlier_factor_
                     for k in range(5, 21)], axis=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    narrow = outliers.local_outlier_factor(distances, positions, rows, 5)
    assert np.all(ours >= narrow) and ours[392:].min() > 2 * narrow[392:].max()


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
    assert set(parts) == {"lof", "gaussian"}
    np.testing.assert_allclose(score, (parts["lof"] + parts["gaussian"]) / 2)
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


def test_score_histogram_counts_every_image_once_and_holds_the_cut():
    from descluster import site

    rng = np.random.default_rng(5)
    scores = np.concatenate([rng.normal(size=990), 10 + rng.normal(size=10)])  # 10 suspicious
    threshold = outliers.tail_threshold(scores)
    hist = site.score_histogram(scores, threshold)
    assert len(hist["counts"]) == site.HISTOGRAM_BINS and hist["n"] == 1000
    assert sum(hist["counts"]) + hist["above"] == 1000
    assert hist["above"] == 10  # the suspicious images do not stretch the bins
    assert hist["low"] == scores.min() and hist["low"] < threshold <= hist["high"] < 9
    # a flat score: its tail cut (spread 1 by convention) lies above it, still inside the range
    flat = site.score_histogram(np.zeros(50), 3.0)
    assert flat["high"] == 3.0 and flat["counts"][0] == 50 and flat["above"] == 0


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


# --- the steps: reduce_pca's residual, score_outliers, combine_outliers --------------------

def run_outlier_steps(folder, X, kinds, variants, rate, k=4, n_init=2, max_iter=100):
    """Descriptors X (n, d) and the ground truth's ``outlier`` column through the steps the
    rules chain: ingest, fit_pca, reduce_pca (with the residual), a KMeans clustering per
    variant, score_outliers, combine_outliers at ``rate``. Returns the folder."""
    paths = [f"cam/{i:06d}.jpg" for i in range(len(X))]
    np.save(folder / "desc.npy", X.astype(np.float32))
    pd.DataFrame({"paths": paths}).to_csv(folder / "paths.csv", index=False)
    pd.DataFrame({"paths": paths, "outlier": kinds}).to_csv(folder / "truth.csv", index=False)
    ingest.ingest_paths(paths_csv=folder / "paths.csv", out_parquet=folder / "images.parquet")
    ingest.ingest_descriptors(descriptor_path=folder / "desc.npy",
                              images_parquet=folder / "images.parquet",
                              out_npy=folder / "ingested.npy")
    ingest.ingest_attributes(files=[(folder / "truth.csv", "auto")],
                             images_parquet=folder / "images.parquet", veriwild_columns=[],
                             out_parquet=folder / "attributes.parquet",
                             out_codes=folder / "codes.npz", out_matches=folder / "matches.tsv")
    pca.fit_pca(descriptors_npy=folder / "ingested.npy", source="desc.npy", variants=variants,
                method="covariance", batch_rows=128, model="m", out_fit=folder / "fit.npz",
                out_curve=folder / "curve.tsv", out_variants=folder / "variants.tsv")
    inputs = []
    for name in pd.read_csv(folder / "variants.tsv", sep="\t")["pca"]:
        out = folder / name
        pca.reduce_pca(descriptors_npy=folder / "ingested.npy", fit_path=folder / "fit.npz",
                       variants_tsv=folder / "variants.tsv", variant=name, batch_rows=128,
                       out_npy=out / "reduced.npy", out_residual=out / "residual.npy")
        Z = np.load(out / "reduced.npy")
        cluster, _ = clustering.assign(Z, clustering.fit_kmeans(Z, k, 0, n_init, max_iter).centroids)
        pd.DataFrame({"cluster": cluster.astype(np.int32)}).to_parquet(out / "assignments.parquet")
        pd.DataFrame({"cluster": np.arange(k), "size": np.bincount(cluster, minlength=k)}).to_csv(
            out / "sizes.tsv", sep="\t", index=False)
        outlier_steps.score_outliers(
            reduced_npy=out / "reduced.npy", residual_npy=out / "residual.npy",
            fit_path=folder / "fit.npz", assignments_parquet=out / "assignments.parquet",
            sizes_tsv=out / "sizes.tsv", n_neighbours=10, reference_sample=20000,
            tiny_fraction=0.25, seed=0, out_scores=out / "scores.parquet")
        inputs.append({"model": "m", "variant": name, "clustering": f"m/{name}/k{k}",
                       "scores": out / "scores.parquet"})
    outlier_steps.combine_outliers(
        inputs=inputs, label_entries=[], images_parquet=folder / "images.parquet",
        attributes_parquet=folder / "attributes.parquet", images_root=None, rate=rate, seed=0,
        out_scores=folder / "outliers.parquet", out_sheet=folder / "top.jpg",
        out_summary=folder / "outliers.tsv")
    return folder


def planted(n=400, d=24, n_bad=8, seed=0):
    """Three groups in d dimensions and n_bad rows far from all of them (the last ones)."""
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(3, d)) * 4)[np.arange(n) % 3] + rng.normal(size=(n, d))
    X[-n_bad:] += rng.normal(size=(n_bad, d)) * 6
    return X, np.where(np.arange(n) >= n - n_bad, "glare", "none")


def test_reduce_pca_writes_each_rows_distance_to_the_subspace(tmp_path):
    X, kinds = planted()
    run_outlier_steps(tmp_path, X, kinds, [5], rate=None)
    fit = pca_fits.load_fit(tmp_path / "fit.npz")
    reduced = np.load(tmp_path / "pca5" / "reduced.npy")
    residual = np.load(tmp_path / "pca5" / "residual.npy")
    assert residual.shape == (len(X),) and residual.dtype == np.float32
    centred = X - fit.mean.astype(np.float64)
    axes = fit.components[:5].astype(np.float64)
    np.testing.assert_allclose(reduced, centred @ axes.T, rtol=1e-4, atol=1e-4)
    expected = np.linalg.norm(centred - centred @ axes.T @ axes, axis=1)
    np.testing.assert_allclose(residual, expected, rtol=1e-4, atol=1e-4)


def test_combine_outliers_cuts_from_the_data_by_default_and_at_a_given_rate(tmp_path, caplog):
    X, kinds = planted()
    bad = kinds != "none"
    with caplog.at_level("INFO"):
        run_outlier_steps(tmp_path, X, kinds, [5, 0.9], rate=None)
    frame = pd.read_parquet(tmp_path / "outliers.parquet")
    summary = pd.read_csv(tmp_path / "outliers.tsv", sep="\t")
    assert list(summary.columns) == ["scope", "kind", "n_true", "n_flagged", "rate", "cut",
                                     "threshold", "precision", "recall"]
    combined = summary[(summary["scope"] == "combined") & (summary["kind"] == "all")].iloc[0]
    scores = frame["combined_score"].to_numpy()
    # the robust tail cut: flags above median + 3 x 1.4826 MAD, the rate comes from the data
    median = np.median(scores)
    threshold = median + 3 * 1.4826 * np.median(np.abs(scores - median))
    assert combined["threshold"] == pytest.approx(threshold, rel=1e-5)
    assert frame["flag"].tolist() == (scores > threshold).tolist()
    assert combined["rate"] == pytest.approx(frame["flag"].mean(), rel=1e-5)  # 6 digits
    assert combined["cut"] == "robust z > 3"
    assert combined["recall"] == 1.0 and 0.01 < combined["rate"] < 0.1  # 8 planted of 400
    # the combined score is the combination rule of the variants' z (no suspicious clusters)
    z = np.column_stack([pd.read_parquet(tmp_path / v / "scores.parquet")["z"] for v in ("pca5", "var0.9")])
    suspicious = np.column_stack([pd.read_parquet(tmp_path / v / "scores.parquet")["tiny_cluster"]
                                  for v in ("pca5", "var0.9")])
    np.testing.assert_allclose(scores, outliers.combine_variants(z, suspicious))
    # each variant flags by the same rule on its own score
    for variant in ("pca5", "var0.9"):
        row = summary[(summary["scope"] == f"m_{variant}") & (summary["kind"] == "all")].iloc[0]
        assert row["n_flagged"] == outliers.tail_flags(frame[f"score_m_{variant}"].to_numpy())[0].sum()
    assert frame["n_models_flagging"].max() <= 2 and frame.loc[bad, "n_models_flagging"].min() >= 1
    assert f"flagged {100 * combined['rate']:.1f} % (robust z > 3, threshold" in caplog.text

    run_outlier_steps(tmp_path, X, kinds, [5, 0.9], rate=0.05)
    summary = pd.read_csv(tmp_path / "outliers.tsv", sep="\t").set_index(["scope", "kind"])
    assert summary.loc[("combined", "all"), "n_flagged"] == 20
    assert summary.loc[("combined", "all"), "rate"] == pytest.approx(0.05)
    assert summary.loc[("combined", "all"), "cut"] == "rate 0.05"
    assert pd.read_parquet(tmp_path / "outliers.parquet")["flag"].sum() == 20


# --- on real defects: the tuning set (MVTec-AD by ResNet-18) -----------------------------

@pytest.fixture(scope="module")
def mvtec():
    if not MVTEC.is_dir():
        pytest.skip(f"the outlier tuning set is not at {MVTEC} (shared/real beside the repository)")
    return MVTEC


@pytest.mark.parametrize("category", ["cable", "zipper"])
def test_the_score_beats_the_plain_knn_distance_on_real_defects(mvtec, category):
    # at the rates given (25 and 30 % defective), the workflow's default PCA to 90 %:
    # 0.796 vs 0.750 and 0.896 vs 0.854 measured. Not in every category: at these rates
    # it is above the kNN distance in 12 of 15 (below on leather, bottle, carpet, where
    # kNN reaches 0.77 to 0.995), and the combined score in 44 of the benchmark's 60 cases
    X, is_defect = outliers_real.load_category(mvtec / category)
    scores, _, _ = outliers_real.workflow_scores(X, [0.9])
    ours = roc_auc_score(is_defect, scores["workflow"][0])
    knn = roc_auc_score(is_defect, outliers_real.knn_baseline(X))
    assert ours > knn + 0.02
    assert ours > roc_auc_score(is_defect, scores["former"][0])


@pytest.mark.parametrize("category", ["metal_nut", "wood"])
def test_combining_two_variants_is_never_below_the_worse_and_near_the_better(mvtec, category):
    # measured over the 60 cases: below the worse variant once (by 0.0004), at most 0.031
    # below the better (median 0.003 to 0.005 below); not always at least the better one
    # (docs/outliers.md). Here (given rates) 0.745 for 0.732 / 0.755, 0.828 for 0.812 / 0.843
    X, is_defect = outliers_real.load_category(mvtec / category)
    scores, _, _ = outliers_real.workflow_scores(X, [0.9, 0.99])
    combined = roc_auc_score(is_defect, scores["workflow"][0])
    singles = [roc_auc_score(is_defect, scores[name][0]) for name in ("var0.9", "var0.99")]
    assert min(singles) <= combined
    assert combined >= max(singles) - 0.035


@pytest.mark.slow
def test_the_data_driven_cut_finds_a_rate_near_the_truth_at_5_percent(mvtec):
    # every category's good rows plus defects making 5 % (seed 0), the benchmark's two
    # variants: the robust tail cut flagged 4.4 % in median over the 15 (quartiles of all
    # 45 benchmark draws 3.2, 4.3, 6.2 %, extremes 0.8 % on capsule draw 0, where the
    # score is weakest, and 14.5 %); tolerance +-1.5 points on the median, every case
    # within 0.5 to 20 %
    found = []
    for category, rate, seed, X, is_defect in outliers_real.cases(mvtec, n_seeds=1):
        if rate == "given":
            continue
        _, flags, share = outliers_real.workflow_scores(X, [0.9, 0.99])
        assert share == pytest.approx(flags.mean())
        assert 0.005 <= share <= 0.2, category
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


@pytest.mark.parametrize("category", ["cable", "wood"])
def test_the_steps_on_real_rows_cut_from_the_data_and_combine_as_measured(mvtec, category, tmp_path):
    # a realistic case (every good row, defects making 5 %, draw 0) through the steps as the
    # rules chain them, with the benchmark's clusterings (k = 10, n_init 3): the same AUROC
    # as the benchmark's way; the cut found from the data flags 1 to 20 % (benchmark: 4.3 %
    # in median over 45 draws, 0.8 to 14.5 %), and its rate is the one outliers.tsv reports
    X, is_defect = outliers_real.load_category(mvtec / category)
    rows = outliers_real.realistic_rows(is_defect, 0)
    X, is_defect = X[rows], is_defect[rows]
    run_outlier_steps(tmp_path, X, np.where(is_defect, "defect", "none"), [0.9, 0.99], rate=None,
                      k=outliers_real.K, n_init=outliers_real.N_INIT, max_iter=outliers_real.MAX_ITER)
    frame = pd.read_parquet(tmp_path / "outliers.parquet")
    summary = pd.read_csv(tmp_path / "outliers.tsv", sep="\t").set_index(["scope", "kind"])
    combined = summary.loc[("combined", "all")]
    assert combined["rate"] == pytest.approx(frame["flag"].mean(), rel=1e-5)  # 6 digits
    assert 0.01 <= combined["rate"] <= 0.2
    assert combined["n_true"] == is_defect.sum() and combined["precision"] > 0.2
    ours = roc_auc_score(is_defect, frame["combined_score"])
    benchmark, _, share = outliers_real.workflow_scores(X, [0.9, 0.99])
    assert ours == pytest.approx(roc_auc_score(is_defect, benchmark["workflow"][0]), abs=0.01)
    assert combined["rate"] == pytest.approx(share, abs=0.01)
    # the combination rule: never below the worse variant, near the better one
    singles = [roc_auc_score(is_defect, frame[f"score_m_{v}"]) for v in ("var0.9", "var0.99")]
    assert min(singles) <= ours and ours >= max(singles) - 0.035
