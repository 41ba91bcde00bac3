"""Failure and recovery end to end: bad input, a killed run resumed, byte-identical results."""

import base64
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from conftest import REPO_ROOT, run_snakemake, write_config

# every test here runs snakemake on a small config: seconds to minutes each
pytestmark = [pytest.mark.usefixtures("snakemake_available"), pytest.mark.slow]


def small_dataset(folder, nan_rows=()):
    rng = np.random.default_rng(0)
    bad = rng.normal(size=(50, 8)).astype(np.float32)
    bad[list(nan_rows), 2] = np.nan
    np.save(folder / "a.npy", bad)
    np.save(folder / "b.npy", rng.normal(size=(50, 4)).astype(np.float32))
    (folder / "paths.csv").write_text("paths\n" + "".join(f"img\\{i}.jpg\n" for i in range(50)))
    write_config(folder / "config.yaml", {
        "descriptors": {"a": "a.npy", "b": "b.npy"}, "images": {"paths": "paths.csv"},
        "pca": {"a": [3], "b": [2]}, "k_range": [2, 4], "kmeans": {"a": [3], "b": [3]},
    })


def test_bad_descriptor_stops_with_one_line_and_no_output(tmp_path):
    small_dataset(tmp_path, nan_rows=(3, 17))
    result = run_snakemake(tmp_path, "--cores", "1", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    expected = ("descluster: error in ingest_descriptors: a.npy: NaN, inf or values beyond "
                "float32 range in row(s) 3, 17 (0-based)")
    assert expected in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    log = (tmp_path / "results" / "logs" / "ingest_descriptors" / "a.log").read_text()
    assert "row(s) 3, 17" in log
    written = [p.name for p in (tmp_path / "results" / "ingest").iterdir()]
    assert "a.npy" not in written and not [n for n in written if "partial" in n]
    assert not (tmp_path / "results" / "pca" / "a").exists()  # nothing computed downstream


def test_hostile_pickle_stops_with_one_line_and_no_output(tmp_path):
    """A 160-byte pickle claiming 8 TB: refused by ingest in one line, nothing allocated."""
    import pickle

    from test_hostile import HOSTILE

    small_dataset(tmp_path)
    (tmp_path / "a.pickle").write_bytes(pickle.dumps(HOSTILE["shape_without_data"][0], protocol=4))
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    config["descriptors"]["a"] = "a.pickle"
    write_config(tmp_path / "config.yaml", config)
    result = run_snakemake(tmp_path, "--cores", "1", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("descluster:")]
    assert lines == ["descluster: error in ingest_descriptors: a.pickle: refused to load pickle: an "
                     "array claims 8000000000000 bytes (shape (1000000, 1000000), dtype float64) "
                     "but holds 8"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results" / "ingest" / "a.npy").exists()


def test_bad_config_value_against_the_data(tmp_path):
    small_dataset(tmp_path)
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    config["pca"]["a"] = [20]  # a.npy has 8 columns
    write_config(tmp_path / "config.yaml", config)
    result = run_snakemake(tmp_path, "--cores", "1", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert ("descluster: error in fit_pca: config key 'pca.a': PCA variant(s) [20] ask for more "
            "components than the data has (50 rows x 8 columns allow at most 8)") in result.stderr
    assert not (tmp_path / "results" / "pca" / "a" / "pca.npz").exists()


BASE_CONFIG = ("descriptors: {a: a.npy, b: b.npy}\nimages: {paths: paths.csv}\n"
               "pca: {a: [3], b: [2]}\nk_range: [2, 4]\n")


@pytest.mark.parametrize("text, message", [
    # YAML that explodes or lies
    (BASE_CONFIG + "seed: 1\nseed: 2\n",
     r"config.yaml, line 6: key 'seed' appears twice \(first on line 5\)"),
    (BASE_CONFIG + "kmeans: {a: &k [3], b: *k}\n", r"config.yaml, line 5: anchors and aliases"),
    # values that pass a lenient schema and fail later
    (BASE_CONFIG.replace("a: [3]", "a: [4.0]"), r"key 'pca.a\[0\]': 4.0 is not valid; expected an integer"),
    (BASE_CONFIG + "kmeans: {a: [3.0]}\n", r"key 'kmeans.a\[0\]': 3.0 is not of type 'integer'"),
    (BASE_CONFIG.replace("[2, 4]", "[2, 4.0]"), r"key 'k_range\[1\]': 4.0 is not of type 'integer'"),
    (BASE_CONFIG + "outliers: {neighbours: 25}\n",
     r"key 'outliers.neighbours': 25 needs more than 50 reference images \(twice as many "
     r"neighbours are searched\), not 50 \(outliers.reference_sample"),
    (BASE_CONFIG.replace("b: b.npy}", "b: results/demo/descriptors/osnet.pickle}"),
     r"key 'descriptors.b': results/demo/descriptors/osnet.pickle is under results/demo/"),
    # outputs are never inputs: a template filled in place would be overwritten
    (BASE_CONFIG + "kmeans: {a: [3]}\nlabels: [{clustering: a/pca3/k3, file: "
                   "results/labels/templates/a_pca3_k3.yaml}]\n",
     r"key 'labels\[0\].file': 'results/labels/templates/a_pca3_k3.yaml' is under results/.*save "
     r"it as config/labels/<model>_<variant>_k<k>\.yaml$"),
    (BASE_CONFIG.replace("b: b.npy}", "b: \"b{x}.npy\"}"),
     r"key 'descriptors.b': 'b\{x\}.npy' holds '\{', which Snakemake reads as a wildcard"),
    (BASE_CONFIG.replace("a: [3]", "a: [.nan]"), r"key 'pca.a\[0\]': nan is not accepted"),
    (BASE_CONFIG + "outliers: {rate: .inf}\n", r"key 'outliers.rate': inf is not accepted"),
    (BASE_CONFIG.replace("a: [3]", "a: [1e-5]"), r"YAML reads 1e-5 as text"),
    (BASE_CONFIG + "label_attributes: [type, hasOwnProperty]\n",
     r"key 'label_attributes\[1\]': attribute name 'hasOwnProperty' is a member of every "
     r"JavaScript object"),
    # the paths file is counted as ingest reads it: CR-only line ends are refused, not 0 rows
    (BASE_CONFIG.replace("paths.csv", "cr.csv"),
     r"cr\.csv, line 1: a carriage return \(\\r\) that does not end a \\r\\n pair"),
    (BASE_CONFIG.replace("paths.csv", "quoted.csv"),
     r"quoted\.csv, line 2: a quoted field runs on to the next line"),
])
def test_config_mistakes_stop_before_any_job_with_one_line(tmp_path, text, message):
    small_dataset(tmp_path)
    (tmp_path / "cr.csv").write_bytes(b"paths\r" + b"".join(b"i%d.jpg\r" % i for i in range(50)))
    # 25 images whose quoted paths hold a line break: not 50 rows, not 25 either: refused
    (tmp_path / "quoted.csv").write_text("paths\n" + "".join(f'"i{i}\n.jpg"\n' for i in range(25)))
    path = tmp_path / "config.yaml"
    path.write_text(text)
    result = run_snakemake(tmp_path, "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("descluster: config error: ") and len(last) < 400, last
    assert re.search(message, last), last


def test_the_pca_fit_asks_memory_for_the_square_of_the_width(tmp_path):
    small_dataset(tmp_path)
    np.save(tmp_path / "a.npy", np.random.default_rng(0).normal(size=(50, 2000)).astype(np.float32))
    run_snakemake(tmp_path, "results/ingest/a.npy", "results/ingest/b.npy", "--cores", "1",
                  "--configfile", "config.yaml")
    planned = run_snakemake(tmp_path, "results/pca/a/pca.npz", "results/pca/b/pca.npz", "-n",
                            "--configfile", "config.yaml").stdout
    requests = dict(re.findall(r"wildcards: model=(\w+)\n.*?mem_mb=(\d+)", planned, re.S))
    # 1200 MB, a quarter of the input's MB, and 56 bytes per d^2 (d = 2000 and 4)
    assert int(requests["a"]) == int(1200 + 56 * 2000 ** 2 / 2 ** 20 + 0.25 * 0.4)
    assert int(requests["b"]) == 1200


def test_a_paths_file_with_a_column_the_workflow_adds_is_a_config_error(tmp_path):
    small_dataset(tmp_path)
    (tmp_path / "paths.csv").write_text("paths,row\n" + "".join(f"i{i}.jpg,{i}\n" for i in range(50)))
    result = run_snakemake(tmp_path, "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].endswith(
        "paths.csv has a column 'row', a name the workflow gives a column it adds "
        "(row, path_original); rename it")


def test_missing_images_root_is_a_config_error(tmp_path):
    small_dataset(tmp_path)
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    config["images"]["root"] = "no/such/folder"
    write_config(tmp_path / "config.yaml", config)
    result = run_snakemake(tmp_path, "-n", "--configfile", "config.yaml", check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].endswith(
        "key 'images.root': folder no/such/folder not found")


def incomplete_outputs(workdir):
    """Outputs Snakemake has marked as being written by a job that did not finish."""
    marked = set()
    root = workdir / ".snakemake" / "incomplete"
    for path in root.rglob("*") if root.is_dir() else []:
        if path.is_file():
            encoded = "".join(part.lstrip("@") for part in path.relative_to(root).parts)
            marked.add(base64.urlsafe_b64decode(encoded).decode())
    return marked


def reproducible_files(workdir):
    """Every file that must be byte-identical between equivalent runs."""
    results = workdir / "results"
    patterns = ["clusters/**/assignments.parquet", "clusters/**/sizes.tsv",
                "clusters/**/centroids.npy", "summary/**/*.tsv", "kscan/**/*.tsv",
                "pca/**/*.tsv", "pca/**/reduced.npy", "ingest/*.parquet"]
    return {p.relative_to(workdir).as_posix(): p.read_bytes()
            for pattern in patterns for p in sorted(results.glob(pattern))}


def test_killed_run_resumes_and_matches_an_uninterrupted_one(tmp_path, demo_run):
    reference_dir, config, _ = demo_run
    write_config(tmp_path / "config.yaml", config)
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO_ROOT / "Snakefile"),
               "--cores", "1", "--configfile", "config.yaml"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    rows = tmp_path / "results" / "kscan"
    deadline = time.monotonic() + 300
    while len(list(rows.glob("*/*/k*.tsv"))) < 3 and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its jobs die at once, mid k-scan
    process.wait()
    unfinished = incomplete_outputs(tmp_path)
    finished = {p: p.stat().st_mtime_ns for p in rows.glob("*/*/k*.tsv")
                if p.relative_to(tmp_path).as_posix() not in unfinished}
    assert finished, "no k-scan job had finished before the kill"
    total_rows = sum(len(v) for v in config["pca"].values()) * 4
    assert len(finished) < total_rows

    run_snakemake(tmp_path, "--unlock", "--configfile", "config.yaml")
    run_snakemake(tmp_path, "--cores", "1", "--rerun-incomplete", "--configfile", "config.yaml")

    assert {p: p.stat().st_mtime_ns for p in finished} == finished, "finished jobs were redone"
    resumed, reference = reproducible_files(tmp_path), reproducible_files(reference_dir)
    assert resumed.keys() == reference.keys() and len(reference) > 40
    differing = [name for name in reference if resumed[name] != reference[name]]
    # --cores 1 here, --cores 2 for the reference: also proves independence of --cores
    assert differing == []

