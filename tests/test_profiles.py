"""The workstation and SLURM profiles parse and plan the workflow (dry runs)."""

import re

import pytest

from conftest import REPO_ROOT, run_snakemake, tiny_demo_config, write_config

pytestmark = pytest.mark.usefixtures("snakemake_available")


@pytest.fixture
def tiny(tmp_path):
    write_config(tmp_path / "config.yaml", tiny_demo_config())
    return tmp_path


def test_slurm_profile_dry_run(demo_run):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    workdir, _, _ = demo_run
    # over a finished run every input exists, so every size-based request is a number
    result = run_snakemake(workdir, "-n", "--forceall", "--profile",
                           str(REPO_ROOT / "profiles" / "slurm"), "--configfile", "config.yaml")
    output = result.stdout + result.stderr
    assert "scan_k" in output
    # cluster jobs only: the target rule 'all' is local and requests nothing
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", output)
    requests = [re.search(r"resources: .*", b).group(0) for b in blocks
                if b.startswith("rule ") and not b.startswith("rule all:") and "resources:" in b]
    assert len(requests) > 50
    for request in requests:
        assert re.search(r"mem_mb=\d+", request) and re.search(r"runtime=\d+", request), request
        assert "slurm_partition=<your-partition>" in request


def test_workstation_profile_dry_run(tiny):
    result = run_snakemake(tiny, "-n", "--profile", str(REPO_ROOT / "profiles" / "default"),
                           "--configfile", "config.yaml")
    assert "scan_k" in result.stdout + result.stderr
