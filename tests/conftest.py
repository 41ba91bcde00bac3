"""Shared test helpers: repository paths, numpy-1.x-style pickles, workflow runs."""

import os
import pickle
import pickletools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
# fixtures that run the whole workflow, copy the repository or start Chromium: a test using one
# (directly or through another fixture) is slow, so `python -m pytest -m "not slow"` leaves it
# out; tests that run snakemake themselves carry @pytest.mark.slow
SLOW_FIXTURES = {"demo_run", "browser", "clone", "office_run"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
REAL_DATA = REPO_ROOT.parent / "shared" / "real" / "office-dslr"


def numpy1_pickle_bytes(array, protocol):
    """Pickle bytes of ``array`` naming ``numpy.core.multiarray``, as numpy 1.x wrote them.

    numpy 2 writes ``numpy._core.multiarray``; the real descriptor files were written by
    numpy 1.x. Protocols 2 and 3 name globals in text lines; protocol 4 names them in
    length-prefixed strings inside a frame whose length is adjusted here.
    """
    data = pickle.dumps(array, protocol=protocol)
    if protocol < 4:
        return data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    old, new = b"numpy._core.multiarray", b"numpy.core.multiarray"
    old_op = b"\x8c" + bytes([len(old)]) + old  # SHORT_BINUNICODE
    new_op = b"\x8c" + bytes([len(new)]) + new
    assert data.count(old_op) == 1
    frame_at = next(pos for op, _, pos in pickletools.genops(data) if op.name == "FRAME")
    frame_len = int.from_bytes(data[frame_at + 1:frame_at + 9], "little")
    patched = (data[:frame_at + 1] + (frame_len - (len(old) - len(new))).to_bytes(8, "little")
               + data[frame_at + 9:])
    return patched.replace(old_op, new_op)


def front_decode(prefix, rest):
    """The paths :func:`descluster.site.front_code` coded, decoded as the pages decode them
    (in UTF-16 units): the reference the tests hold ``paths.js`` against."""
    paths, previous = [], b""
    for units, tail in zip(prefix.tolist(), rest):
        previous = previous[:2 * units] + tail.encode("utf-16-le")
        paths.append(previous.decode("utf-16-le"))
    return paths


def write_config(path, config):
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run_snakemake(workdir, *args, check=True, timeout=900):
    """Run the repository's workflow from ``workdir``, as a user would from their project folder."""
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO_ROOT / "Snakefile"), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                            cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        )
    return result


TINY_N_IMAGES = 600


def tiny_demo_config(n_images=TINY_N_IMAGES, thumbnails=True):
    """The tiny test configuration, .test/config.yaml (the demo study at 600 images, all four
    demo models, a short k-scan), with the demo's size and thumbnails as asked."""
    with open(REPO_ROOT / ".test" / "config.yaml", encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config["demo"] = {"n_images": n_images, "thumbnails": thumbnails}
    return config


@pytest.fixture(scope="session")
def real_data():
    if not REAL_DATA.is_dir():
        pytest.skip(f"real test data not found at {REAL_DATA} (shared/real beside the repository)")
    return REAL_DATA


@pytest.fixture(scope="session")
def snakemake_available():
    if shutil.which("snakemake") is None:
        pytest.skip("snakemake is not installed")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, snakemake_available):
    """The workflow run once on the tiny demo config with --cores 2: (workdir, config, result)."""
    workdir = tmp_path_factory.mktemp("demo_run")
    config = tiny_demo_config()
    write_config(workdir / "config.yaml", config)
    result = run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")
    return workdir, config, result
