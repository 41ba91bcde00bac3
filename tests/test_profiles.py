"""The workstation and SLURM profiles parse and plan the workflow (dry runs)."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO_ROOT, run_snakemake, tiny_demo_config, write_config

pytestmark = pytest.mark.usefixtures("snakemake_available")

SLURM_PROFILE = str(REPO_ROOT / "profiles" / "slurm")
TARGET_RULE = "all"  # a local rule: never submitted


def planned_jobs(output):
    """The jobs of a dry run's output, in order: one dict per job with 'rule', 'group'
    (the group job's name, None for a job on its own), 'submission' (the number of the
    SLURM job it would go in: shared by a group job's members), 'wildcards' (dict of str)
    and 'resources' (the text after 'resources: ', '' if none)."""
    jobs, group, submissions = [], None, 0
    for line in output.splitlines():
        header = re.search(r"\] Group job (\S+) \(", line)
        rule = re.match(r"( *)(?:local)?rule (\w+):$", line)
        if header:
            group, submissions = header.group(1), submissions + 1
        elif rule:
            if not rule.group(1):  # a job at the top level: not a member of the group above
                group, submissions = None, submissions + 1
            jobs.append({"rule": rule.group(2), "group": group, "submission": submissions,
                         "wildcards": {}, "resources": ""})
        elif jobs and (field := re.match(r" +(wildcards|resources): (.*)", line)):
            if field.group(1) == "wildcards":
                jobs[-1]["wildcards"] = dict(item.split("=", 1)
                                             for item in field.group(2).split(", "))
            else:
                jobs[-1]["resources"] = field.group(2)
    return jobs


def slurm_submissions(jobs):
    """Number of SLURM jobs a plan submits: group jobs and ungrouped jobs (not the target)."""
    return len({job["submission"] for job in jobs if job["rule"] != TARGET_RULE})


@pytest.fixture
def tiny(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_demo_config())
    return tmp_path


def test_slurm_profile_dry_run(demo_run):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    workdir, _, _ = demo_run
    # over a finished run every input exists, so every size-based request is a number
    result = run_snakemake(workdir, "-n", "--forceall", "--profile", SLURM_PROFILE,
                           "--configfile", "config.yaml")
    jobs = [job for job in planned_jobs(result.stdout + result.stderr)
            if job["rule"] != TARGET_RULE]
    assert any(job["rule"] == "scan_k" for job in jobs)
    assert len(jobs) > 50
    for job in jobs:  # grouped or not, every job states its own request
        request = job["resources"]
        assert re.search(r"mem_mb=\d+", request) and re.search(r"runtime=\d+", request), job
        assert "slurm_partition=<your-partition>" in request


def test_workflow_profile_keeps_the_slurm_profiles_settings():
    """Snakemake applies profiles/default to every run and its keys win over --profile's:
    it must not change what the SLURM profile sets (e.g. 'cores', the group job size)."""
    profiles = {}
    for name in ("default", "slurm"):
        with open(REPO_ROOT / "profiles" / name / "config.yaml", encoding="utf-8") as handle:
            profiles[name] = yaml.safe_load(handle)
    assert profiles["slurm"]["cores"] >= 1
    shared = profiles["default"].keys() & profiles["slurm"].keys()
    assert {key: profiles["default"][key] for key in shared} == \
        {key: profiles["slurm"][key] for key in shared}


def seed_scale_workdir(tmp_path):
    """A workdir whose config has the seed study's shape (benchmarks/seed_config.yaml: its
    models, variants, k range and final clusterings) on tiny stand-in input files: the
    plan depends only on these, not on the files' content."""
    with open(REPO_ROOT / "benchmarks" / "seed_config.yaml", encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    data = tmp_path / "data"
    (data / "descriptors").mkdir(parents=True)
    n_rows = config["k_range"][1] + 10  # every k must be below the number of images
    paths = [f"img/{i:03d}.jpg" for i in range(n_rows)]
    (data / "images_paths.csv").write_text("paths\n" + "\n".join(paths) + "\n")
    (data / "attributes.csv").write_text("paths,type\n" + "".join(f"{p},car\n" for p in paths))
    for model in config["descriptors"]:
        (data / "descriptors" / f"{model}.npy").write_bytes(b"stand-in")
        config["descriptors"][model] = f"data/descriptors/{model}.npy"
    config["images"] = {"paths": "data/images_paths.csv", "root": None}
    config["attributes"] = "data/attributes.csv"
    write_config(tmp_path / "config.yaml", config)
    return tmp_path, config


@pytest.mark.slow
def test_slurm_profile_groups_seed_scale_into_few_jobs(tmp_path):
    """The seed-scale study (4 models, 6 variants, k = 2..50, 21 clusterings: ~400 jobs)
    is submitted as at most 60 SLURM jobs, the k-scan as one job per model and variant."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    workdir, config = seed_scale_workdir(tmp_path)
    result = run_snakemake(workdir, "-n", "--profile", SLURM_PROFILE, "--configfile",
                           "config.yaml")
    jobs = [job for job in planned_jobs(result.stdout + result.stderr)
            if job["rule"] != TARGET_RULE]
    n_variants = sum(len(v) for v in config["pca"].values())
    n_k = config["k_range"][1] - config["k_range"][0] + 1
    n_clusterings = sum(len(config["pca"][m]) * len(ks) for m, ks in config["kmeans"].items())
    scans = [job for job in jobs if job["rule"] == "scan_k"]
    assert len(scans) == n_variants * n_k == 294
    assert len(jobs) >= 390
    assert slurm_submissions(jobs) <= 60, f"{slurm_submissions(jobs)} SLURM jobs"

    scan_groups = {}
    for job in scans:
        scan_groups.setdefault(job["group"], set()).add(
            (job["wildcards"]["model"], job["wildcards"]["variant"]))
    assert None not in scan_groups
    # one group job per model and variant, holding that variant's every k
    assert len(scan_groups) == n_variants
    assert all(len(pairs) == 1 for pairs in scan_groups.values())
    scan_submissions = {job["submission"] for job in scans}
    assert len(scan_submissions) == n_variants
    assert all(sum(job["submission"] == number for job in jobs) == n_k
               for number in scan_submissions)
    per_clustering = [job for job in jobs if job["rule"] in
                      ("cluster_kmeans", "draw_cards", "make_label_template")]
    assert len(per_clustering) == 3 * n_clusterings
    assert all(job["group"] for job in per_clustering)


def test_slurm_profile_reruns_only_missing_k_grouped(demo_run, tmp_path):
    """Resumable per k: after a k-scan group job was cut off, only its missing k are
    planned again, together in one group job."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    finished, _, _ = demo_run
    workdir = tmp_path / "run"
    shutil.copytree(finished, workdir, symlinks=True)  # keeps times: the run stays finished
    model, variant = "osnet", "pca12"
    missing = {"3", "5"}
    scan = workdir / "results" / "kscan" / model
    # what a run cut off inside the k-scan lacks: the unfinished k and the model's tables
    for file in [scan / variant / f"k{k}.tsv" for k in missing] + [scan / "kscan.tsv",
                                                                   scan / "suggested_k.tsv"]:
        file.unlink()
    # (the later outputs are still there, from the finished run: ask for the table)
    result = run_snakemake(workdir, f"results/kscan/{model}/kscan.tsv", "-n", "--profile",
                           SLURM_PROFILE, "--configfile", "config.yaml")
    jobs = planned_jobs(result.stdout + result.stderr)
    scans = [job for job in jobs if job["rule"] == "scan_k"]
    assert {job["wildcards"]["k"] for job in scans} == missing
    assert {(job["wildcards"]["model"], job["wildcards"]["variant"]) for job in scans} == {(model, variant)}
    assert len({job["submission"] for job in scans}) == 1 and scans[0]["group"]
    assert {job["rule"] for job in jobs} == {"scan_k", "summarize_kscan"}


@pytest.mark.slow
def test_workstation_profile_dry_run(tiny):
    result = run_snakemake(tiny, "-n", "--profile", str(REPO_ROOT / "profiles" / "default"),
                           "--configfile", "config.yaml")
    assert "scan_k" in result.stdout + result.stderr


@pytest.mark.slow
def test_ci_config_plans_in_a_fresh_directory(tmp_path):
    """As a workflow catalog runs it: from the repository, into another directory."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--configfile",
         ".test/config.yaml", "--directory", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")})
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert {"make_demo", "scan_k", "build_site"} <= {job["rule"] for job in jobs}
    assert not (tmp_path / "results").exists()  # a dry run


def test_workflow_profile_schedules_greedily_as_no_output_is_temporary():
    """Snakemake's default ILP scheduler only helps remove temp() files sooner; with
    hundreds of ready k-scan jobs it kept the cores waiting (seed_scale.py's part
    'scheduler'). Greedy loses nothing while no rule marks an output temp()."""
    profile = yaml.safe_load((REPO_ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["scheduler"] == "greedy"
    rule_files = sorted((REPO_ROOT / "workflow" / "rules").glob("*.smk"))
    assert rule_files and not [path.name for path in rule_files if "temp(" in path.read_text()]
