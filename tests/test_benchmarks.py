"""The seed-scale benchmark's measuring code, on small data (its timings are not asserted)."""

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
    parquet = tmp_path / "model.parquet"
    ingest.write_descriptor_parquet(array, [f"img{i}.jpg" for i in range(3000)], parquet)
    with open(tmp_path / "model.pickle", "wb") as handle:
        pickle.dump(array, handle, protocol=4)
    result = pca_vs_sklearn.compare(parquet, 10, incremental=True, pickle_path=tmp_path / "model.pickle")
    assert set(result) >= {"ours", "default", "exact", "incremental", "load"}
    assert abs(result["explained_variance_gap"]) < 1e-5
    assert result["angle50"] < 0.01
    printed = capsys.readouterr().out
    assert "sklearn IncrementalPCA" in printed and "3000 x 30 -> 10 components" in printed
    assert "to load the array from " + str(tmp_path / "model.pickle") in printed


def test_baseline_scan_is_scikit_learns_default_kmeans():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(loc, 0.3, size=(200, 4)) for loc in (0, 5, 10)]).astype(np.float32)
    table = seed_scale._baseline_scan(X, [2, 3], seed=0)
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
