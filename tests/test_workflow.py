"""End-to-end runs of the real workflow with snakemake on a tiny demo."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import TINY_N_IMAGES as N_IMAGES
from conftest import run_snakemake, tiny_demo_config, write_config

pytestmark = pytest.mark.usefixtures("snakemake_available")


def test_every_output_is_written(demo_run):
    workdir, config, _ = demo_run
    results = workdir / "results"
    for model in config["descriptors"]:
        assert (results / "pca" / model / "explained_variance.png").stat().st_size > 1000
        assert (results / "plots" / f"kscan_{model}.png").stat().st_size > 1000
        assert (results / "summary" / "models" / f"{model}.tsv").is_file()
    scan = pd.read_csv(results / "summary" / "kscan.tsv", sep="\t")
    assert list(scan.columns) == ["model", "pca", "n_components", "k", "inertia",
                                  "calinski_harabasz", "davies_bouldin", "silhouette", "n_iter"]
    assert (scan["n_iter"] >= 1).all()
    n_variants = sum(len(v) for v in config["pca"].values())
    assert len(scan) == n_variants * 4  # k = 2..5
    assert scan[["inertia", "calinski_harabasz", "davies_bouldin", "silhouette"]].notna().all().all()
    # inertia falls as k grows, for every variant
    for _, group in scan.groupby(["model", "pca"]):
        assert group.sort_values("k")["inertia"].is_monotonic_decreasing
    suggested = pd.read_csv(results / "summary" / "suggested_k.tsv", sep="\t")
    assert len(suggested) == n_variants
    assert suggested["suggested_k"].between(2, 5).all()
    # a fraction variant resolves to a component count recorded in the outputs
    variants = pd.read_csv(results / "pca" / "osnet" / "variants.tsv", sep="\t")
    fraction = variants.set_index("pca").loc["var0.9"]
    assert fraction["explained_variance"] >= 0.9 and fraction["n_components"] >= 1
    assert scan.loc[scan["pca"] == "var0.9", "n_components"].iloc[0] == fraction["n_components"]


def test_assignments(demo_run):
    workdir, config, _ = demo_run
    folder = workdir / "results" / "clusters" / "osnet" / "pca12" / "k6"
    table = pq.read_table(folder / "assignments.parquet")
    assert table.column_names == ["paths", "cluster", "distance"]
    frame = table.to_pandas()
    assert len(frame) == N_IMAGES
    assert frame["paths"].str.startswith("veriwild/").all()  # normalised paths
    assert set(frame["cluster"]) == set(range(6))
    centroids = np.load(folder / "centroids.npy")
    reduced = np.load(workdir / "results" / "pca" / "osnet" / "pca12" / "reduced.npy")
    expected = np.linalg.norm(reduced - centroids[frame["cluster"]], axis=1)
    np.testing.assert_allclose(frame["distance"], expected, rtol=1e-4)
    sizes = pd.read_csv(folder / "sizes.tsv", sep="\t")
    assert sizes["size"].sum() == N_IMAGES
    # shares are written to 6 significant digits: each may be off by half a unit of the 6th
    assert sizes["share"].sum() == pytest.approx(1.0, abs=len(sizes) * 5e-7)


def test_validation_and_ranking(demo_run):
    workdir, config, _ = demo_run
    validation = pd.read_csv(workdir / "results" / "summary" / "validation.tsv", sep="\t")
    assert list(validation.columns) == ["model", "pca", "n_components", "k", "attribute",
                                        "n_labelled", "ari", "nmi", "v_measure", "purity"]
    n_clusterings = sum(len(config["pca"][m]) * len(config["kmeans"][m]) for m in config["kmeans"])
    assert validation.groupby(["model", "pca", "k"]).ngroups == n_clusterings
    # from the demo's vehicle_info.txt (VeRi-Wild's format) and attributes.csv; the
    # 'outlier' column marks bad images for the outlier scores and is not ranked
    assert set(validation["attribute"]) == {"type", "colour", "view", "camera"}
    ranking = pd.read_csv(workdir / "results" / "summary" / "model_ranking.tsv", sep="\t")
    best = ranking[ranking["rank"] == 1].set_index("attribute")["model"]
    assert best["colour"] == "vdc_color"
    assert best["camera"] == "efficientnet-b7"


def test_logs_benchmarks_and_thumbnails(demo_run):
    workdir, _, _ = demo_run
    log = (workdir / "results" / "logs" / "fit_pca" / "osnet.log").read_text()
    assert "fit_pca: done in" in log and "accumulated 600 rows" in log
    assert (workdir / "results" / "benchmarks" / "fit_pca" / "osnet.tsv").is_file()
    assert len(list((workdir / "results" / "demo" / "images").rglob("*.jpg"))) == N_IMAGES


def test_second_run_has_nothing_to_do(demo_run):
    workdir, _, _ = demo_run
    result = run_snakemake(workdir, "-n", "--cores", "2", "--configfile", "config.yaml")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_report(demo_run):
    workdir, _, _ = demo_run
    run_snakemake(workdir, "--configfile", "config.yaml", "--report", "report.zip")
    assert (workdir / "report.zip").stat().st_size > 10000


def test_config_error_stops_before_any_job(tmp_path):
    config = tiny_demo_config()
    config["kmeans"]["resnet"] = [5]
    write_config(tmp_path / "config.yaml", config)
    result = run_snakemake(tmp_path, "--cores", "1", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("descluster: config error: ")
    assert "key 'kmeans.resnet': model 'resnet' is not in 'descriptors'" in last
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()
