"""The workflow on real CNN descriptors (Office-Caltech dslr, 157 photos, 10 classes)."""

import numpy as np
import pandas as pd
import pytest

from conftest import run_snakemake, write_config

pytestmark = pytest.mark.usefixtures("snakemake_available")

MODELS = ["googlenet", "caffenet", "surf"]


@pytest.fixture(scope="module")
def office_run(real_data, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("office")
    config = {
        "descriptors": {m: str(real_data / "descriptors" / f"{m}.pickle") for m in MODELS},
        "images": {"paths": str(real_data / "images_paths.csv")},
        "attributes": str(real_data / "attributes.csv"),
        "pca": {m: [0.9] for m in MODELS},  # the seed notebook's approach
        "k_range": [2, 12],
        "kmeans": {m: [10] for m in MODELS},
        "clustering": {"n_init": 10},
    }
    write_config(workdir / "config.yaml", config)
    run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")
    return workdir


def test_model_ranking_matches_the_reference(office_run):
    ranking = pd.read_csv(office_run / "results" / "summary" / "model_ranking.tsv", sep="\t")
    objects = ranking[ranking["attribute"] == "object"].sort_values("rank")
    assert objects["model"].tolist() == ["googlenet", "caffenet", "surf"]
    ari = objects.set_index("model")["best_ari"]
    # reference ARIs (README of shared/real): googlenet 0.89, caffenet 0.77, surf 0.19
    assert ari["googlenet"] > 0.75
    assert 0.55 < ari["caffenet"] < ari["googlenet"]
    assert ari["surf"] < 0.35


def test_final_clusterings_are_never_worse_than_the_scan(office_run):
    """A person labels the final clustering: it must be at least as tight as the k-scan's."""
    scan = pd.read_csv(office_run / "results" / "summary" / "kscan.tsv", sep="\t")
    for model in MODELS:
        fit = pd.read_csv(office_run / "results" / "clusters" / model / "var0.9" / "k10"
                          / "fit.tsv", sep="\t").iloc[0]
        row = scan[(scan["model"] == model) & (scan["k"] == 10)].iloc[0]
        assert fit["inertia"] <= row["inertia"]
        assert fit["kscan_inertia"] == pytest.approx(row["inertia"], rel=1e-6)


def test_uint8_surf_descriptors_were_ingested_as_float32(office_run):
    ingested = np.load(office_run / "results" / "ingest" / "surf.npy", mmap_mode="r")
    assert ingested.dtype == np.float32 and ingested.shape[1] == 800


def test_windows_paths_were_normalised(office_run):
    assignments = pd.read_parquet(office_run / "results" / "clusters" / "googlenet" / "var0.9"
                                  / "k10" / "assignments.parquet")
    assert len(assignments) == 157
    assert assignments["paths"].iloc[0] == "dslr/backpack/000.jpg"
