"""The seed-scale benchmark's measuring code, on small data (its timings are not asserted)."""

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from descluster import ingest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import pca_vs_sklearn  # noqa: E402
import seed_scale  # noqa: E402


def test_pca_comparison_reports_agreement_with_the_exact_pca(tmp_path, capsys):
    rng = np.random.default_rng(0)
    scales = np.linspace(5.0, 0.5, 30)
    array = (rng.normal(size=(3000, 30)) * scales).astype(np.float32)
    ingested = tmp_path / "model.npy"
    ingest.write_descriptor_npy(array, ingested)
    with open(tmp_path / "model.pickle", "wb") as handle:
        pickle.dump(array, handle, protocol=4)
    result = pca_vs_sklearn.compare(ingested, 10, incremental=True, pickle_path=tmp_path / "model.pickle")
    assert set(result) >= {"ours", "default", "exact", "incremental", "load"}
    assert abs(result["explained_variance_gap"]) < 1e-5
    assert result["angle50"] < 0.01
    printed = capsys.readouterr().out
    assert "sklearn IncrementalPCA" in printed and "3000 x 30 -> 10 components" in printed
    assert "to load the array from " + str(tmp_path / "model.pickle") in printed


def test_notebook_scan_is_scikit_learns_default_kmeans():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(loc, 0.3, size=(200, 4)) for loc in (0, 5, 10)]).astype(np.float32)
    table = seed_scale.notebook_scan(X, [2, 3], seed=0)
    assert list(table.index) == [2, 3]
    assert table.loc[3, "inertia"] < 0.2 * table.loc[2, "inertia"]
    assert table.loc[3, "calinski_harabasz"] > table.loc[2, "calinski_harabasz"]


def test_rule_table_sums_snakemakes_benchmark_files(tmp_path):
    root = tmp_path / "results" / "benchmarks"
    for rule, name, seconds, rss in [("scan_k", "a/k2.tsv", 1.5, 100.0), ("scan_k", "a/k3.tsv", 2.5, 300.0),
                                     ("build_site", "", 0.5, 50.0)]:
        path = root / rule / name if name else root / f"{rule}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"s": [seconds], "max_rss": [rss]}).to_csv(path, sep="\t", index=False)
    table = seed_scale.rule_table(tmp_path)
    assert table.loc["scan_k"].tolist() == pytest.approx([2, 4.0, 2.5, 300.0])
    assert table.loc["build_site", "jobs"] == 1
    assert table.index[0] == "scan_k"  # longest total first


def _rule_tables():
    ours = pd.DataFrame({"jobs": [2, 1], "total_s": [4.0, 1.0], "longest_s": [2.5, 1.0],
                         "max_rss_mib": [300.0, 50.0]}, index=pd.Index(["scan_k", "new_rule"], name="rule"))
    baseline = pd.DataFrame({"jobs": [2], "total_s": [8.0], "longest_s": [5.0], "max_rss_mib": [400.0]},
                            index=pd.Index(["scan_k"], name="rule"))
    return ours, baseline


def test_rule_comparison_gives_the_ratio_per_rule_and_keeps_rules_of_one_side(capsys):
    ours, baseline = _rule_tables()
    table = seed_scale.compare_rules(ours, baseline, "baseline")
    assert table.loc["scan_k", "ours / baseline"] == pytest.approx(0.5)
    assert np.isnan(table.loc["new_rule", "baseline s"])
    assert "job seconds in all: baseline 8, ours 5 (0.62 x)" in capsys.readouterr().out


def test_final_against_scan_and_held_out_ari_targets(tmp_path):
    for run, ari in (("before", [0.50, 0.30]), ("after", [0.505, 0.32])):
        clusters = tmp_path / run / "results" / "clusters" / "m" / "pca2" / "k3"
        clusters.mkdir(parents=True)
        pd.DataFrame({"model": ["m"], "pca": ["pca2"], "k": [3], "inertia": [9.0], "n_iter": [4],
                      "converged": [True], "start": ["k-scan centroids"], "kscan_inertia": [10.0]}
                     ).to_csv(clusters / "fit.tsv", sep="\t", index=False)
        summary = tmp_path / run / "results" / "summary"
        summary.mkdir(parents=True)
        pd.DataFrame({"model": "m", "pca": "pca2", "k": 3, "attribute": ["type", "colour"], "ari": ari}
                     ).to_csv(summary / "validation.tsv", sep="\t", index=False)
    targets = []
    seed_scale.final_against_scan(tmp_path / "after", targets)
    seed_scale.held_out_ari(tmp_path / "before", tmp_path / "after", "before", targets)
    (_, measured, _, final_met), (_, ari_measured, _, ari_met) = targets
    assert final_met and measured == "largest ratio 0.90000"
    assert not ari_met and ari_measured == "+0.0200 (colour)"  # moved by 0.02 > 0.01


def test_a_baseline_revision_runs_its_own_package(tmp_path):
    environment = seed_scale.Revision(tmp_path, "baseline").environment()
    assert environment["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "src")
