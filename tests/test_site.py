"""The offline HTML browser, checked in a real headless Chromium."""

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import front_decode
from descluster import site
from descluster.steps.validate import VALIDATION_COLUMNS, recommend_clusterings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import review_gain  # noqa: E402

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
    n_maps = sum(len(config["pca"][m]) for m in config["kmeans"] if config["kmeans"][m])
    assert len(pages) == n_clusterings + n_maps + 2  # + index and outliers
    for page in pages:
        for link in local_links(page):
            assert (report / link).exists(), f"{page.name} links to missing {link}"


def read_data(path):
    """The last JSON argument of a data script ``DC.page({...});``, ``DC.chunk(name, {...});``."""
    text = path.read_text(encoding="utf-8")
    return json.loads("[" + text[text.index("(") + 1:text.rindex(")")] + "]")[-1]


def test_cards_show_every_cluster(demo_run):
    workdir, _, _ = demo_run
    report = workdir / "results" / "report"
    page = (report / "osnet_pca12_k6.html").read_text()
    cards = pd.read_csv(workdir / "results" / "cards" / "osnet" / "pca12" / "k6" / "cards.tsv",
                        sep="\t")
    assert len(cards) == 6 and (cards["placeholders"] == 0).all()
    assert 'src="files/data/osnet_pca12_k6.js"' in page
    data = read_data(report / "files" / "data" / "osnet_pca12_k6.js")
    template = (workdir / "results" / "labels" / "templates" / "osnet_pca12_k6.yaml")
    target = data["target"]  # no label file listed: the page starts from the template
    assert data["clustering"] == target["name"] == "osnet/pca12/k6"
    assert target["file"] == "osnet_pca12_k6.yaml"
    assert target["template"] == target["base"]["text"] == template.read_text(encoding="utf-8")
    assert target["base"]["source"] == "results/labels/templates/osnet_pca12_k6.yaml"
    assert target["base"]["hash"] == site.text_hash(template.read_text(encoding="utf-8"))
    assert not target["base"]["listed"] and "run" not in data  # not keyed by the folder
    assert [c["id"] for c in data["clusters"]] == list(range(6))
    for cluster in data["clusters"]:
        assert f'href="#cluster-{cluster["id"]}"' in page  # the table of clusters
        assert cluster["sheet"].endswith(f"sheets/cluster{cluster['id']:03d}.jpg")
        assert (report / cluster["sheet"]).is_file()
        shown = [tile[0] for row in cluster["shown"].values() for tile in row]
        assert len(shown) == 30
        for path in shown:  # every shown member has a thumbnail (the demo has pictures)
            assert (report / data["thumbs"] / data["thumbOf"][path]).is_file()
        assert {"n", "top"} <= set(next(iter(cluster["truth"].values())))


def test_gallery_chunks_hold_every_member_nearest_first(demo_run):
    workdir, _, _ = demo_run
    folder = workdir / "results" / "report" / "gallery" / "osnet_pca12_k6"
    members = pd.read_parquet(workdir / "results" / "clusters" / "osnet" / "pca12" / "k6"
                              / "assignments.parquet")
    for cluster, group in members.groupby("cluster"):
        chunks = sorted(folder.glob(f"c{cluster}_*.js"), key=lambda p: int(p.stem.split("_")[1]))
        rows = [r for chunk in chunks for r in read_data(chunk)["rows"]]
        expected = group.sort_values("distance", kind="stable")
        # image rows: the page looks paths up in the run's paths script, scores by row too
        assert rows == expected.index.tolist()
        assert set(read_data(chunks[0])) == {"rows", "distance"}


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
    assert "top outliers" in (workdir / "results" / "report" / "outliers.html").read_text()
    summary = pd.read_csv(workdir / "results" / "summary" / "outliers.tsv", sep="\t")
    combined = summary[summary["scope"] == "combined"].set_index("kind")
    # the default cut comes from the data (outliers.rate null); outliers.tsv says which
    assert combined.loc["all", "cut"] == "robust z > 3"
    assert combined.loc["all", "n_flagged"] == scores["flag"].sum()
    assert combined.loc["all", "rate"] == pytest.approx(scores["flag"].mean(), rel=1e-5)
    assert combined.loc["all", "n_true"] > 0
    assert combined.loc["all", "recall"] >= 0.8  # planted glare, night and no-vehicle images
    agreement = pd.read_csv(workdir / "results" / "summary" / "agreement.tsv", sep="\t")
    assert agreement["ari"].between(-1, 1).all()
    assert Path(workdir / "results" / "plots" / "agreement.png").stat().st_size > 5000


# --- the pieces, without a workflow run ---------------------------------------------


def test_breakdown_counts_known_values_per_cluster():
    clusters = np.array([0, 0, 0, 0, 1, 1])
    values = np.array(["sedan", "sedan", "suv", "", "", ""], dtype=object)
    result = site.breakdown(clusters, site.encode_values(values))
    assert result == {0: {"n": 3, "top": [["sedan", 0.6667], ["suv", 0.3333]]}}


def test_breakdown_ranks_by_count_then_value_and_keeps_the_top_three():
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 6, 2000)
    values = rng.choice(np.array(["", "b", "a", "c", "d", "é"], dtype=object), 2000,
                        p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    result = site.breakdown(clusters, site.encode_values(values))
    for cluster in range(6):
        counts = Counter(values[(clusters == cluster) & (values != "")])
        n = sum(counts.values())
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:site.TRUTH_TOP]
        assert result[cluster] == {"n": n, "top": [[v, round(c / n, 4)] for v, c in ranked]}


def test_member_chunks_split_clusters_nearest_first():
    assignments = pd.DataFrame({"paths": list("abcde"), "cluster": [1, 0, 1, 1, 0],
                                "distance": np.array([3, 2, 1, 2, 1], dtype=np.float32)})
    chunks = list(site.member_chunks(assignments, size=2))
    assert [(c, i, p["rows"]) for c, i, p in chunks] == [(0, 0, [4, 1]), (1, 0, [2, 3]), (1, 1, [0])]
    assert [p["distance"] for _, _, p in chunks] == [[1, 2], [1, 2], [3]]


def test_front_coded_paths_decode_as_the_page_decodes_them():
    paths = ["a/b/c.jpg", "a/b/d.jpg", "a/x.jpg", "a/x.jpg2", "\U0001f697/1.jpg",
             "\U0001f697/2.jpg", "z" * 300 + "1", "z" * 300 + "2", "", "q"]
    prefix, rest = site.front_code(paths)
    assert prefix.dtype == np.uint8 and prefix[1] == len("a/b/")
    assert prefix[5] == 3  # the car is two UTF-16 units in JavaScript
    assert front_decode(prefix, rest) == paths


def test_scores_script_holds_every_image_by_row(tmp_path):
    scores = pd.DataFrame({"combined_score": [0.5, 1.0, 2.0, 3.0, np.nan],
                           "flag": [False, False, True, False, False]})
    site.write_scores(scores, tmp_path)
    text = (tmp_path / "scores.js").read_text()
    assert "NaN" not in text
    payload = read_data(tmp_path / "scores.js")
    assert payload["score"] == [0.5, 1.0, 2.0, 3.0, None] and payload["flag"] == [0, 0, 1, 0, 0]


def test_tables_escape_text_and_sort_numbers_by_value():
    frame = pd.DataFrame({"name": ["<img src=x onerror=alert(1)>"], "score": [0.123456789]})
    markup = site.table(frame)
    assert "<img" not in markup and "&lt;img src=x" in markup
    assert 'class="sortable"' in markup and '<div class="scroll">' in markup
    assert 'data-v="0.123456789"' in markup and ">0.1235<" in markup


def test_index_without_ground_truth_shows_the_suggestion_and_the_clusterings(tmp_path):
    clusterings = pd.DataFrame({"clustering": ["m/pca4/k3"], "model": ["m"], "pca": ["pca4"],
                                "k": [3], "smallest_share": [0.2], "largest_share": [0.5]})
    suggested = pd.DataFrame({"model": ["m"], "pca": ["pca4"], "suggested_k": [5],
                              "note": ["optimum at the edge: widen k_range"]})
    tables = {"models": {"m": pd.DataFrame({"model": ["m"]})}, "suggested": suggested}
    figures = {"pca": {"m": tmp_path / "p.png"}, "kscan": {"m": tmp_path / "k.png"},
               "agreement": tmp_path / "a.png"}
    page = site.index_page(["m"], clusterings, tables, figures, tmp_path)
    assert "Which clustering should I label?" in page and "No ground truth" in page
    assert "optimum at the edge: widen k_range" in page
    assert '<a href="m_pca4_k3.html">m/pca4/k3</a>' in page
    assert "Purity is" not in page
    assert "an index value" not in page  # without ground truth the suggestion is the advice


def validation_rows(rows):
    """A validation.tsv of (model, pca, k, attribute, purity, ari) rows."""
    frame = pd.DataFrame(rows, columns=["model", "pca", "k", "attribute", "purity", "ari"])
    return frame.assign(n_components=4, n_labelled=100, nmi=0.5, v_measure=0.5)[
        VALIDATION_COLUMNS]


def test_one_recommendation_per_attribute_fewest_clusters_within_the_tolerance():
    validation = validation_rows([
        ("osnet", "pca150", 50, "type", 0.95, 0.40), ("osnet", "pca150", 40, "type", 0.94, 0.45),
        ("osnet", "pca150", 10, "type", 0.90, 0.60), ("vdc_type", "pca20", 8, "type", 0.935, 0.7),
        ("vdc_color", "pca4", 8, "colour", 0.93, 0.5), ("osnet", "pca150", 50, "colour", 0.80, 0.3)])
    rows = recommend_clusterings(validation).set_index("attribute")
    # type: the best purity is k50's 95 %; within 2 points, vdc_type's k8 has the fewest clusters
    assert rows.loc["type", "clustering"] == "vdc_type/pca20/k8"
    assert rows.loc["type", "best_clustering"] == "osnet/pca150/k50"
    assert "8 clusters to name for 93.5% purity" in rows.loc["type", "trade_off"]
    assert "6.2x the naming" in rows.loc["type", "trade_off"]
    assert rows.loc["colour", "clustering"] == rows.loc["colour", "best_clustering"]
    assert list(rows.index) == ["type", "colour"]


def test_the_index_shows_the_one_recommendation_label_fields_first(tmp_path):
    validation = validation_rows([("m", "pca4", 3, "camera", 0.2, 0.1),
                                  ("m", "pca4", 3, "type", 0.9, 0.5),
                                  ("m", "pca4", 6, "type", 0.91, 0.4)])
    clusterings = pd.DataFrame({"clustering": ["m/pca4/k3", "m/pca4/k6"], "model": ["m", "m"],
                                "pca": ["pca4"] * 2, "k": [3, 6], "smallest_share": [0.2] * 2,
                                "largest_share": [0.5] * 2})
    tables = {"models": {"m": pd.DataFrame({"model": ["m"]})}, "validation": validation,
              "recommended": recommend_clusterings(validation),
              "suggested": pd.DataFrame({"model": ["m"], "pca": ["pca4"], "suggested_k": [6]})}
    figures = {"pca": {"m": tmp_path / "p.png"}, "kscan": {"m": tmp_path / "k.png"},
               "agreement": tmp_path / "a.png"}
    page = site.index_page(["m"], clusterings, tables, figures, tmp_path,
                           label_fields=["type", "view", "colour"], reviews=["m/pca4/k3"])
    which = page[page.index('id="which"'):page.index("</table>", page.index('id="which"'))]
    assert which.index(">type<") < which.index(">camera<")  # the label fields first
    assert '<a href="m_pca4_k3.html">m/pca4/k3</a>' in which
    assert "no (ground truth only)" in which
    assert "No ground truth for view, colour" in page
    assert "The k-scan's suggestion" not in page  # no second advice beside it
    assert "suggested_k: the lowest Davies-Bouldin of the k-scan, an index value" in page
    assert '<a href="review_m_pca4_k3.html">m/pca4/k3</a>' in page


def test_the_review_benchmark_finds_the_wrong_labels_first():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [4, 0], [0, 4], [4, 4]], dtype=np.float32)
    truth_of_blob = np.array(["a", "a", "b", "b"], dtype=object)
    blob = rng.integers(0, 4, size=2000)
    Z = (centres[blob] + rng.normal(0, 1.2, size=(2000, 2))).astype(np.float32)
    truth = truth_of_blob[blob]
    k, cluster, centroids = next(review_gain.clusterings(Z, [4]))
    row = review_gain.review_gain(Z, cluster, centroids, truth, "colour", 0.02)
    assert row["n_fixed"] == 40 and 0 < row["accuracy"] < 1
    assert row["review_gain"] >= 3 * row["random_gain"] and row["review_gain"] <= row["ceiling"]


def test_assets_ship_with_the_package_and_name_no_url(tmp_path):
    site.copy_assets(tmp_path)
    for name in site.ASSETS:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text and not re.search(r"https?:|//[a-z0-9-]+\.[a-z]{2,}/|@import", text), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name


def test_thumbnails_are_written_once_per_readable_image(tmp_path):
    root = tmp_path / "images"
    (root / "a").mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 0, 0)).save(root / "a" / "one.jpg")
    folder = tmp_path / "thumbs"
    folder.mkdir()
    known = {}
    first = site.write_thumbnails(["a/one.jpg", "a/missing.jpg", "a/one.jpg"], root, folder, known)
    assert first == {"a/one.jpg": site.thumb_name("a/one.jpg")}
    with Image.open(folder / first["a/one.jpg"]) as thumb:
        assert thumb.size == site.THUMB
    (folder / first["a/one.jpg"]).unlink()
    assert site.write_thumbnails(["a/one.jpg"], root, folder, known) == first  # not read again
    assert not any(folder.iterdir())
    assert site.write_thumbnails(["a/one.jpg"], None, folder, {}) == {}
