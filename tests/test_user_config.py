"""A user's own config, run from the repository root as the README says.

These runs use a copy of the repository (config/config.yaml included), because a config
given with --configfile once merged into the demo config there and nowhere else.
"""

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO_ROOT

pytestmark = pytest.mark.usefixtures("snakemake_available")

N_IMAGES = 240


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A copy of the repository with a user's data and config/mine.yaml beside the demo config."""
    root = tmp_path_factory.mktemp("clone") / "descluster"
    shutil.copytree(REPO_ROOT, root, ignore=shutil.ignore_patterns(
        ".git", "results", ".snakemake", "__pycache__", "*.egg-info", ".pytest_cache"))
    data = root / "data"
    (data / "descriptors").mkdir(parents=True)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 6
    group = np.arange(N_IMAGES) % 4
    for model, dims in (("googlenet", 16), ("surf", 12)):
        x = centres[group][:, :dims] + rng.normal(size=(N_IMAGES, dims))
        np.save(data / "descriptors" / f"{model}.npy", x.astype(np.float32))
    paths = [f"veriwild\\{1 + i % 2}\\{i // 3 + 1:05d}\\{i + 1:06d}.jpg" for i in range(N_IMAGES)]
    pd.DataFrame({"paths": paths}).to_csv(data / "images_paths.csv", index=False)
    colours = np.array(["red", "blue", "white", "black"])[group]
    lines = ["id/image;Camera ID;Time;Model;Type;Color"] + [
        f"{p.split(chr(92))[2]}/{p.split(chr(92))[3][:-4]};1;2018-03-01 10:00:00;m;sedan;{c}"
        for p, c in zip(paths, colours)]
    (data / "vehicle_info.txt").write_text("\n".join(lines) + "\n")
    mine = {
        "descriptors": {"googlenet": "data/descriptors/googlenet.npy",
                        "surf": "data/descriptors/surf.npy"},
        "images": {"paths": "data/images_paths.csv"},
        "k_range": [2, 5],
        "kmeans": {"googlenet": [4]},
    }
    (root / "config" / "mine.yaml").write_text(yaml.safe_dump(mine, sort_keys=False))
    return root


def snakemake(root, *args, check=True):
    """`snakemake ...` from the repository root, as a user types it."""
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=root,
                            capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-3000:]}")
    return result


def dry_run_jobs(root, *args):
    """{rule: count} of a dry run."""
    out = snakemake(root, "-n", "--quiet", "rules", *args).stdout
    jobs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            jobs[parts[0]] = int(parts[1])
    return jobs


@pytest.fixture(scope="module")
def user_run(clone):
    snakemake(clone, "--cores", "2", "--configfile", "config/mine.yaml")
    return clone


def test_the_users_config_runs_only_its_own_models(user_run):
    results = user_run / "results"
    assert not (results / "demo").exists()  # no demo built, no demo file read
    assert sorted(p.name for p in (results / "ingest").iterdir()
                  if p.suffix in (".npy", ".parquet")) == ["googlenet.npy", "images.parquet", "surf.npy"]
    assert sorted(p.name for p in (results / "summary" / "models").iterdir()) == [
        "googlenet.tsv", "surf.tsv"]
    # no attributes and no images.root in the user's config: none leak from the demo's
    assert not (results / "summary" / "validation.tsv").exists()
    cards = pd.read_csv(results / "cards" / "googlenet" / "var0.9" / "k4" / "cards.tsv", sep="\t")
    assert (cards["placeholders"] > 0).all()
    assert (results / "report" / "index.html").is_file()


def test_keys_left_out_take_the_schema_defaults_not_the_demo_values(user_run):
    # pca: schema default [0.9] (the demo config names other models only);
    # clustering.n_init: schema default 3 (the demo's is the same, so check the variant)
    variants = pd.read_csv(user_run / "results" / "pca" / "surf" / "variants.tsv", sep="\t")
    assert variants["pca"].tolist() == ["var0.9"]
    scan = pd.read_csv(user_run / "results" / "summary" / "kscan.tsv", sep="\t")
    assert sorted(scan["k"].unique()) == [2, 3, 4, 5]


def test_config_overrides_still_apply(clone):
    jobs = dry_run_jobs(clone, "--configfile", "config/mine.yaml")
    assert "make_demo" not in jobs and "validate_clusterings" not in jobs
    with_truth = dry_run_jobs(clone, "--configfile", "config/mine.yaml",
                              "--config", "attributes=data/vehicle_info.txt")
    assert with_truth["ingest_attributes"] == 1 and with_truth["validate_clusterings"] == 1


def test_without_configfile_the_demo_config_applies(clone):
    jobs = dry_run_jobs(clone)
    assert jobs["make_demo"] == 1
    assert jobs["scan_k"] == 6 * 49  # the study: six PCA variants, k = 2..50


def test_veriwild_ground_truth_validates_the_users_clusterings(user_run):
    (user_run / "config" / "truth.yaml").write_text(
        (user_run / "config" / "mine.yaml").read_text() + "attributes: data/vehicle_info.txt\n")
    snakemake(user_run, "--cores", "2", "--configfile", "config/truth.yaml")
    validation = pd.read_csv(user_run / "results" / "summary" / "validation.tsv", sep="\t")
    colour = validation[validation["attribute"] == "colour"].iloc[0]
    assert colour["n_labelled"] == N_IMAGES and colour["ari"] > 0.9
    # a single-valued column (every type is 'sedan', every camera 1) is not ranked
    assert set(validation["attribute"]) == {"colour"}
    matches = pd.read_csv(user_run / "results" / "ingest" / "attributes_match.tsv", sep="\t")
    assert matches.iloc[0][["format", "rows_matched", "images_without_row"]].tolist() == [
        "veriwild", N_IMAGES, 0]


def test_a_demo_file_in_a_users_config_is_a_config_error(clone):
    (clone / "config" / "mixed.yaml").write_text(
        (clone / "config" / "mine.yaml").read_text().replace(
            "data/descriptors/surf.npy", "results/demo/descriptors/osnet.pickle"))
    result = snakemake(clone, "-n", "--configfile", "config/mixed.yaml", check=False)
    assert result.returncode != 0
    assert ("descluster: config error: config/mixed.yaml: key 'descriptors.surf': "
            "results/demo/descriptors/osnet.pickle is under results/demo/") in result.stderr


def test_the_demo_config_saved_in_a_local_encoding_stops_in_one_line(clone):
    shipped = clone / "config" / "config.yaml"
    text = shipped.read_bytes()
    try:  # a comment in Russian, saved as Windows-1251 (as an editor there may do)
        shipped.write_bytes(text + "# свои дескрипторы\n".encode("cp1251"))
        result = snakemake(clone, "-n", check=False)
    finally:
        shipped.write_bytes(text)
    assert result.returncode != 0
    n_lines = text.count(b"\n") + 1
    assert result.stderr.splitlines()[-1] == (
        f"descluster: config error: config/config.yaml, line {n_lines}: not UTF-8 text; "
        "save the file as UTF-8")
    assert "Traceback" not in result.stderr
