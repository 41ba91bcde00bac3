"""The offline HTML browser, checked in a real headless Chromium."""

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.usefixtures("snakemake_available")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def render(page, profile):
    """Load a page from disk in headless Chromium: (DOM after load, console lines)."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    return result.stdout, console


def local_links(page):
    text = page.read_text()
    return re.findall(r'(?:src|href)="([^"#]+)"', text)


def test_every_page_and_link_exists(demo_run):
    workdir, config, _ = demo_run
    report = workdir / "results" / "report"
    pages = sorted(report.glob("*.html"))
    n_clusterings = sum(len(config["pca"][m]) * len(config["kmeans"][m]) for m in config["kmeans"])
    assert len(pages) == n_clusterings + 2  # + index and outliers
    for page in pages:
        for link in local_links(page):
            assert (report / link).exists(), f"{page.name} links to missing {link}"


def test_cards_show_every_cluster(demo_run):
    workdir, _, _ = demo_run
    page = (workdir / "results" / "report" / "osnet_pca12_k6.html").read_text()
    cards = pd.read_csv(workdir / "results" / "cards" / "osnet" / "pca12" / "k6" / "cards.tsv", sep="\t")
    assert len(cards) == 6 and (cards["placeholders"] == 0).all()
    for cluster in range(6):
        assert f'id="cluster-{cluster}"' in page
        assert f"sheets/cluster{cluster:03d}.jpg" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_pages_load_in_chromium_without_errors(demo_run, tmp_path):
    workdir, _, _ = demo_run
    pages = sorted((workdir / "results" / "report").glob("*.html"))
    for i, page in enumerate(pages):
        dom, console = render(page, tmp_path / f"profile{i}")
        assert 'data-broken-images="0"' in dom, f"{page.name}: broken pictures or script did not run"
        assert console == [], f"{page.name}: console messages {console}"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_browser_check_sees_broken_pictures(demo_run, tmp_path):
    workdir, _, _ = demo_run
    moved = tmp_path / "moved.html"  # relative links no longer resolve from here
    shutil.copy(workdir / "results" / "report" / "index.html", moved)
    dom, console = render(moved, tmp_path / "profile")
    broken = int(re.search(r'data-broken-images="(\d+)"', dom).group(1))
    assert broken >= 5
    assert any("missing picture" in line for line in console)


def test_outliers_page_and_files(demo_run):
    workdir, _, _ = demo_run
    scores = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    assert {"paths", "combined_score", "flag", "n_models_flagging"} <= set(scores.columns)
    assert scores["flag"].sum() == int(-(-len(scores) * 0.01 // 1))
    assert "top outliers" in (workdir / "results" / "report" / "outliers.html").read_text()
    summary = pd.read_csv(workdir / "results" / "summary" / "outliers.tsv", sep="\t")
    combined = summary[summary["scope"] == "combined"].set_index("kind")
    assert combined.loc["all", "n_true"] > 0
    assert combined.loc["all", "recall"] >= 0.8  # planted glare, night and no-vehicle images
    agreement = pd.read_csv(workdir / "results" / "summary" / "agreement.tsv", sep="\t")
    assert agreement["ari"].between(-1, 1).all()
    assert Path(workdir / "results" / "plots" / "agreement.png").stat().st_size > 5000
