"""The map of all images: its layout, its packed data, the workflow's map pages, and the
page in a real headless Chromium (Playwright driving the system Chromium)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO_ROOT, front_decode, run_snakemake
from descluster import layout, map_page, site
from descluster.config import variant_name

CHROMIUM = Path("/usr/bin/chromium")
MAP_MODEL, MAP_PCA = "osnet", "pca12"
MAP = f"map_{MAP_MODEL}_{MAP_PCA}.html"


def blobs(n_per_blob=400, n_blobs=4, dims=10, seed=0):
    """Gaussian blobs far apart: (X float32, blob of each row)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 8.0, size=(n_blobs, dims))
    blob = np.repeat(np.arange(n_blobs), n_per_blob)
    X = centres[blob] + rng.normal(0.0, 1.0, size=(len(blob), dims))
    return X.astype(np.float32), blob


# --- the layout ---------------------------------------------------------------------

def test_layout_is_deterministic_and_keeps_each_blob_together():
    X, blob = blobs()
    first = layout.layout(X, seed=3)
    assert first.dtype == np.float32 and first.shape == (len(X), 2)
    assert np.array_equal(first, layout.layout(X, seed=3))
    assert first.min() >= 0.0 and first.max() == pytest.approx(1.0)
    # every point is nearer the middle of its own blob on the map than any other blob's
    middles = np.stack([first[blob == b].mean(axis=0) for b in range(blob.max() + 1)])
    nearest = np.argmin(((first[:, None, :] - middles[None, :, :]) ** 2).sum(axis=2), axis=1)
    assert (nearest == blob).mean() > 0.99
    # and the blobs are apart: within-blob spread well below the distance between middles
    spread = max(np.linalg.norm(first[blob == b] - middles[b], axis=1).mean()
                 for b in range(blob.max() + 1))
    gaps = np.linalg.norm(middles[:, None] - middles[None, :], axis=2)
    assert spread < 0.5 * gaps[gaps > 0].min()


def test_farther_from_the_centroid_is_farther_out_in_the_cell():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    centroid = X.mean(axis=0, keepdims=True)
    distances = np.linalg.norm(X - centroid, axis=1).astype(np.float32)
    placed = layout.place_rows(X, np.zeros(300, dtype=np.int32), distances, centroid,
                               np.array([[0.0, 0.0]]), np.array([1.0]), seed=0)
    radius = np.linalg.norm(placed, axis=1)
    assert np.array_equal(np.argsort(radius, kind="stable"), np.argsort(distances, kind="stable"))
    assert radius.max() <= 1.0


def test_discs_are_pushed_apart_until_none_overlap():
    centres = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.0, 0.0]])
    radii = np.array([0.5, 0.3, 0.2, 0.1])
    moved = layout.separate_discs(centres, radii)
    apart = np.linalg.norm(moved[:, None] - moved[None, :], axis=2)
    need = radii[:, None] + radii[None, :]
    assert (apart[~np.eye(4, dtype=bool)] >= need[~np.eye(4, dtype=bool)] * 0.999).all()


def test_tiny_inputs_have_a_layout():
    for n in (1, 30, 60):
        X, _ = blobs(n_per_blob=n, n_blobs=1, dims=3)
        placed = layout.layout(X, seed=0)
        assert placed.shape == (n, 2) and np.isfinite(placed).all()
        assert n == 1 or len(np.unique(placed, axis=0)) > n // 2  # spread, not one spot


# --- the packed data ----------------------------------------------------------------

def test_categorical_codes_decode_to_the_values():
    values = np.array(["b", "", "a", "b", "c", "b", "a", "d"], dtype=object)
    entry = map_page.categorical("colour", "ground truth", values, max_values=3)
    assert entry["values"] == ["b", "a", ""]  # most frequent first, ties by value
    assert entry["counts"] == [3, 2, 1] and entry["other"] == 2 and entry["bytes"] == 1
    codes = site.unpack(entry["codes"], np.uint8)
    decoded = [entry["values"][c] if c < len(entry["values"]) else None for c in codes]
    assert decoded == ["b", "", "a", "b", None, "b", "a", None]


def test_many_clusters_take_two_bytes_in_their_order():
    clusters = np.arange(600) % 300
    entry = map_page.categorical("m/p/k300", "clustering", clusters.astype(str),
                                 order=[str(c) for c in range(300)])
    assert entry["bytes"] == 2
    assert np.array_equal(site.unpack(entry["codes"], np.uint16), clusters)


def test_scores_are_coloured_by_percentile():
    values = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
    entry = map_page.score("combined score", "outliers", values)
    codes = site.unpack(entry["codes"], np.uint8)
    assert np.array_equal(np.argsort(codes), np.argsort(values)) and codes.max() < 256
    assert entry["ticks"][0] == [0.0, 1.0] and entry["ticks"][-1] == [1.0, 5.0]


def test_colourings_cover_clusterings_truth_labels_and_outliers():
    paths = [f"img{i}.jpg" for i in range(6)]
    truth = pd.DataFrame({"paths": paths, "colour": ["red", "red", "", "blue", "red", "blue"],
                          "outlier": ["none", "glare", "", "none", "night", "none"]})
    labels = pd.DataFrame({"row": np.arange(6), "paths": paths,
                           "colour": ["red"] * 3 + [""] * 3,
                           "colour_source": ["cluster"] * 6,
                           "colour_confidence": [0.9, 0.3, 0.1, np.nan, np.nan, np.nan],
                           "labelled_outlier": [False, True, False, False, False, False]})
    outliers = pd.DataFrame({"paths": paths, "score_m_pca2": np.arange(6.0),
                             "combined_score": np.arange(6.0)[::-1],
                             "flag": [True, False, False, False, False, False]})
    entries = map_page.colourings(
        [("m/pca2/k3", np.array([0, 1, 2, 0, 1, 2]), ["red", "", "bad images"]),
         ("m/pca2/k2", np.array([0, 1, 1, 0, 1, 1]), None)],
        truth, outliers, labels, "score_m_pca2")
    assert [(e["group"], e["name"]) for e in entries] == [
        ("clustering", "m/pca2/k3"), ("clustering", "m/pca2/k2"), ("ground truth", "colour"),
        ("ground truth", "outlier kind"), ("propagated label", "colour"),
        ("propagated label", "labelled outlier"), ("label confidence", "colour confidence"),
        ("outliers", "combined score"), ("outliers", "score of m_pca2"), ("outliers", "flagged")]
    # a labelled clustering's legend names its clusters as its label file does
    assert entries[0]["values"] == ["0", "1", "2"]
    assert entries[0]["names"] == ["red", "", "bad images"] and "names" not in entries[1]
    kinds = entries[3]
    assert [kinds["values"][c] for c in site.unpack(kinds["codes"], np.uint8)] == [
        "", "glare", "", "", "night", ""]
    bands = entries[6]  # the bands of label_accuracy.tsv, in their order; '' = no label
    assert bands["values"] == [">=0.5", "0.2-0.5", "<0.2", ""]
    codes = site.unpack(bands["codes"], np.uint8).tolist()
    assert codes == [0, 1, 2, 3, 3, 3] and bands["other"] == 0
    flagged = entries[-1]
    assert flagged["values"] == ["yes", "no"] and flagged["counts"] == [1, 5]


def test_coordinates_are_quantised_to_uint16():
    x, y = map_page.quantise(np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.25]], dtype=np.float32))
    assert x.tolist() == [0, 65535, 32768] and y.tolist() == [65535, 0, 49151]


# --- the workflow's map pages --------------------------------------------------------

def read_data(path):
    """The last JSON argument of a data script (``DC.page({...});``, ``DC.chunk(n, {...});``)."""
    text = path.read_text(encoding="utf-8")
    return json.loads("[" + text[text.index("(") + 1:text.rindex(")")] + "]")[-1]


@pytest.fixture(scope="module")
def map_run(demo_run, tmp_path_factory):
    """A copy of the demo run with every map page made: (workdir, config)."""
    source, config, _ = demo_run
    root = tmp_path_factory.mktemp("maps")
    workdir = root / "run"
    shutil.copytree(source, workdir, symlinks=True)
    pages = [f"results/report/map_{m}_{variant_name(p)}.html"
             for m in config["kmeans"] for p in config["pca"][m] if config["kmeans"][m]]
    # build_site and draw_map again, in this copy
    run_snakemake(workdir, *pages, "results/report/index.html",
                  "--cores", "2", "--configfile", "config.yaml", "--forcerun", "build_site", "draw_map")
    return workdir, config


def test_every_model_variant_gets_a_map_with_all_images(map_run):
    workdir, config = map_run
    report = workdir / "results" / "report"
    images = pd.read_parquet(workdir / "results" / "ingest" / "images.parquet")
    truth = pd.read_parquet(workdir / "results" / "ingest" / "attributes.parquet")
    maps = sorted(report.glob("map_*.html"))
    assert len(maps) == sum(len(config["pca"][m]) for m in config["kmeans"])
    data = read_data(report / f"map_{MAP_MODEL}_{MAP_PCA}.js")
    assert data["n"] == len(images) and data["model"] == MAP_MODEL
    coords = np.load(workdir / "results" / "map" / MAP_MODEL / MAP_PCA / "layout.npy")
    x, y = map_page.quantise(coords)
    assert np.array_equal(site.unpack(data["x"], np.uint16), x)
    assert np.array_equal(site.unpack(data["y"], np.uint16), y)
    by_name = {c["name"]: c for c in data["colourings"]}
    for k in config["kmeans"][MAP_MODEL]:
        name = f"{MAP_MODEL}/{MAP_PCA}/k{k}"
        clusters = pd.read_parquet(workdir / "results" / "clusters" / MAP_MODEL / MAP_PCA /
                                   f"k{k}" / "assignments.parquet")["cluster"].to_numpy()
        entry = by_name[name]
        codes = site.unpack(entry["codes"], np.uint8)
        assert np.array_equal(np.array(entry["values"], dtype=int)[codes], clusters)
        template = (workdir / "results" / "labels" / "templates" /
                    f"{MAP_MODEL}_{MAP_PCA}_k{k}.yaml").read_text(encoding="utf-8")
        target = next(c for c in data["clusterings"] if c["name"] == name)
        assert target["page"] == f"{MAP_MODEL}_{MAP_PCA}_k{k}.html"
        assert target["file"] == f"{MAP_MODEL}_{MAP_PCA}_k{k}.yaml"
        assert target["template"] == target["base"]["text"] == template
    # the map marks in any clustering's label file (the working clustering)
    assert len(data["clusterings"]) == sum(len(config["pca"][m]) * len(config["kmeans"][m])
                                           for m in config["kmeans"])
    colour = by_name["colour"]
    codes = site.unpack(colour["codes"], np.uint8)
    assert [colour["values"][c] for c in codes] == truth["colour"].fillna("").tolist()
    assert {"combined score", "flagged", "outlier kind"} <= set(by_name)
    assert data["paths"] == "paths.js" and data["pathsName"] == "paths"
    paths = read_data(report / "paths.js")
    assert front_decode(site.unpack(paths["prefix"], np.uint8),
                        paths["rest"]) == images["paths"].tolist()
    page = (report / MAP).read_text(encoding="utf-8")
    for script in ("files/assets/common.js", "files/assets/labelfile.js", "files/assets/map.js",
                   f"map_{MAP_MODEL}_{MAP_PCA}.js", "files/assets/map.css"):
        assert f'"{script}"' in page


def test_build_site_ships_the_map_assets(map_run):
    workdir, _ = map_run
    assets = workdir / "results" / "report" / "files" / "assets"
    for name in ("map.js", "map.css"):
        assert (assets / name).read_bytes() == (
            REPO_ROOT / "src" / "descluster" / "browser" / name).read_bytes()


# --- in Chromium ----------------------------------------------------------------------

def chromium_or_skip():
    """The Playwright sync API, or skip: Playwright drives the system Chromium."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright; it "
                                      "drives the system Chromium, no browser download needed)")
    if not CHROMIUM.exists():
        pytest.skip("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
    return sync_api


@pytest.fixture(scope="module")
def browser():
    with chromium_or_skip().sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile whose requests are recorded; any that leaves file:// is refused."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.requests, context.errors = [], []

    def route(r):
        context.requests.append(r.request.url)
        if r.request.url.startswith(("file://", "data:", "blob:")):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    yield context
    context.close()


def open_page(context, path):
    page = context.new_page()
    page.on("console", lambda m: m.type in ("error", "warning") and context.errors.append(
        f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: context.errors.append(f"pageerror: {e}"))
    page.goto(Path(path).as_uri())
    page.wait_for_load_state("load")
    return page


def check_clean(context):
    assert [u for u in context.requests if not u.startswith(("file://", "data:", "blob:"))] == []
    assert context.errors == []


def test_map_page_paints_every_point_offline(map_run, context):
    workdir, _ = map_run
    n = len(pd.read_parquet(workdir / "results" / "ingest" / "images.parquet"))
    page = open_page(context, workdir / "results" / "report" / MAP)
    page.wait_for_selector("#map[data-painted]")
    assert int(page.get_attribute("#map", "data-painted")) == n
    page.wait_for_selector("body[data-paths=loaded]")
    options = page.eval_on_selector_all("#colourby option", "os => os.map(o => o.textContent)")
    assert f"{MAP_MODEL}/{MAP_PCA}/k4" in options and "combined score" in options
    for label in options:  # every colouring paints every point
        page.select_option("#colourby", label=label)
        assert int(page.get_attribute("#map", "data-painted")) == n
    check_clean(context)


def test_hover_shows_the_picture_and_a_click_opens_the_image_view(map_run, context):
    workdir, _ = map_run
    page = open_page(context, workdir / "results" / "report" / MAP)
    page.wait_for_selector("body[data-paths=loaded]")
    box = page.locator("#map").bounding_box()
    found = None
    for fx in np.linspace(0.05, 0.95, 19):  # move over the map until a point is under the pointer
        for fy in np.linspace(0.05, 0.95, 19):
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            if page.is_visible("#tip"):
                found = (box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                break
        if found:
            break
    assert found, "no point under the pointer anywhere on a 19 x 19 grid"
    path = page.text_content("#tip .tip-path")
    images = pd.read_parquet(workdir / "results" / "ingest" / "images.parquet")
    assert path in set(images["paths"])
    assert page.get_attribute("#tip img", "src").endswith(path.split("/")[-1])
    page.mouse.click(*found)
    page.wait_for_selector("#viewer:not([hidden])")
    assert page.text_content("#viewer .viewer-path") == path
    page.keyboard.press("n")  # a mark from the image view says its words, not its file key
    assert f"{path}: marked 'not this cluster' in the label file of" in page.text_content("#status")
    check_clean(context)


def test_box_selection_marks_images_in_the_clustering_pages_label_file(map_run, context):
    workdir, _ = map_run
    report = workdir / "results" / "report"
    page = open_page(context, report / MAP)
    page.wait_for_selector("body[data-paths=loaded]")
    page.keyboard.press("b")
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] - 2, steps=5)
    page.mouse.up()
    n_selected = int(page.get_attribute("body", "data-selected"))
    assert n_selected > 0
    clustering = f"{MAP_MODEL}/{MAP_PCA}/k6"
    page.select_option("#markin", label=clustering)  # the working clustering
    page.click("#mark-bad")
    if n_selected > 50:  # many images at once: the page asks first
        page.keyboard.press("y")
    assert "marked bad" in page.text_content("#status")
    kept = page.evaluate("""name => {
        const target = DC.pageData.clusterings.find(c => c.name === name);
        return DC.store.read(target.name, target.base.hash); }""", clustering)
    document = yaml.safe_load(kept)
    assert document["clustering"] == clustering
    marked = [image["path"] for image in document["images"]]
    assert len(marked) == n_selected and all(image["outlier"] for image in document["images"])
    listed = page.eval_on_selector_all("#selected-tiles .tile", "ts => ts.map(t => t.dataset.path)")
    assert listed and set(listed) <= set(marked)
    # the clustering page starts from what the map kept: its download holds the marks
    labelling = open_page(context, report / f"{MAP_MODEL}_{MAP_PCA}_k6.html")
    labelling.wait_for_selector(".card")
    with labelling.expect_download() as info:
        labelling.keyboard.press("Control+s")
    downloaded = yaml.safe_load(Path(info.value.path()).read_text(encoding="utf-8"))
    assert [image["path"] for image in downloaded["images"]] == marked
    check_clean(context)


@pytest.mark.slow
def test_map_benchmark_measures_every_target_on_small_data(tmp_path):
    chromium_or_skip()
    result = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "map_scale.py"),
                             "--out", str(tmp_path), "--n-images", "3000"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1: a budget missed (not asserted)
    for variant in ("efficientnet-b7/pca250", "osnet/pca150", "vdc_color/pca4", "vdc_type/pca2"):
        assert f"| {variant} " in result.stdout
    for target in ("all six layouts", "peak memory of a layout job", "draw_map of osnet/pca150",
                   "map data script", "first paint of 3,000 points"):
        assert target in result.stdout
    assert "INCOMPLETE" not in result.stdout  # every point painted
    assert (tmp_path / "report" / "map_screenshot.png").is_file()


def test_values_from_the_data_show_as_text(map_run, context):
    workdir, _ = map_run
    report = workdir / "results" / "report"
    hostile = "<img src=x onerror=document.title='hacked'>"
    data = read_data(report / f"map_{MAP_MODEL}_{MAP_PCA}.js")
    colour = next(c for c in data["colourings"] if c["name"] == "colour")
    colour["values"][0] = hostile
    colour["name"] = hostile
    (report / "hostile_values.js").write_text(f"DC.page({json.dumps(data)});\n", encoding="utf-8")
    page_html = (report / MAP).read_text(encoding="utf-8")
    (report / "hostile_values.html").write_text(
        page_html.replace(f'"map_{MAP_MODEL}_{MAP_PCA}.js"', '"hostile_values.js"'), encoding="utf-8")
    page = open_page(context, report / "hostile_values.html")
    page.wait_for_selector("body[data-paths=loaded]")
    page.select_option("#colourby", label=hostile)
    assert page.text_content("#legend h2") == hostile
    assert hostile in page.eval_on_selector_all("#legend .value", "vs => vs.map(v => v.textContent)")
    assert page.locator("#legend img, #colourby img").count() == 0
    assert page.title() != "hacked"
    check_clean(context)
