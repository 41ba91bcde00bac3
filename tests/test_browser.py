"""The offline browser in a real headless Chromium (Playwright driving the system Chromium).

Pages are opened from file:// as a user would; every request is recorded and any that
does not stay on file:// is refused and fails the test.
"""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import run_snakemake, write_config

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright; it "
                                  "drives the system Chromium, no browser download needed)")
pytestmark = [
    pytest.mark.usefixtures("snakemake_available"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Chromium not found at /usr/bin/chromium (apt-get install chromium)"),
]

CLUSTERING = "osnet/pca12/k6"
PAGE = "osnet_pca12_k6.html"
TEMPLATE = "osnet_pca12_k6.yaml"
HOSTILE = "<img src=x onerror=alert(1)>"
VALUE = f'"quoted" \\ ünïcode {HOSTILE}'  # needs JSON escapes in the file
FIXED = ("cluster", "size", "note", "mixed", "outlier")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


class Session:
    """A fresh browser profile: pages opened from file://, with what they log and request."""

    def __init__(self, browser):
        self.context = browser.new_context(accept_downloads=True,
                                           viewport={"width": 1280, "height": 900})
        self.requests, self.refused, self.errors, self.dialogs = [], [], [], []
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url.startswith(("file://", "blob:", "data:")):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def open(self, path):
        page = self.context.new_page()
        page.on("console", lambda m: m.type in ("error", "warning") and self.errors.append(
            f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.goto(Path(path).as_uri())
        page.wait_for_load_state("load")
        return page

    def check_clean(self):
        assert self.refused == [], f"requests left file://: {self.refused}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"


@pytest.fixture
def session(browser):
    session = Session(browser)
    yield session
    session.context.close()


@pytest.fixture(scope="module")
def site_run(demo_run, tmp_path_factory):
    """A copy of the demo run (so the labelled rerun leaves the shared one alone)."""
    source, config, _ = demo_run
    workdir = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(source, workdir, symlinks=True)
    return workdir, config


def template_attributes(template):
    """The attribute fields of a label template, in order."""
    first = yaml.safe_load(template.read_text(encoding="utf-8"))["clusters"][0]
    return [key for key in first if key not in FIXED]


def download(page, press="Control+s"):
    with page.expect_download() as info:
        page.keyboard.press(press)
    return Path(info.value.path()).read_bytes(), info.value.suggested_filename


def focused_field(page):
    """[card id, field] of the focused form field."""
    return page.evaluate("[document.activeElement.closest('.card').id, "
                         "document.activeElement.dataset.field]")


def go_to(page, cluster):
    """Leave any field (Esc) and move with j/k until the cluster's card is the current one."""
    page.keyboard.press("Escape")
    for _ in range(50):
        current = int(page.evaluate("document.querySelector('.card.current').id").split("-")[1])
        if current == cluster:
            return
        page.keyboard.press("j" if current < cluster else "k")
    raise AssertionError(f"could not reach cluster {cluster} with j/k")


def card_values(page, cluster):
    return page.eval_on_selector_all(
        f"#cluster-{cluster} input[data-field]",
        "inputs => Object.fromEntries(inputs.map(i => [i.dataset.field, i.value]))")


QUOTED = r'"(?:[^"\\]|\\.)*"'
LINE_PATTERNS = [r"#.*", r"clustering: \S+", r"clusters:", r"  - cluster: \d+  # .*",
                 r"    size: \d+", r"    [a-z_]+: " + QUOTED, r"    (mixed|outlier): (true|false)",
                 r"images: \[\]", r"images:", r"  - path: " + QUOTED,
                 r"    (outlier|not_cluster): true"]


def assert_label_file_format(text, template):
    """The file has the template's layout line for line: only values differ, images appended."""
    assert text.endswith("\n") and "\r" not in text
    for line in text.splitlines():
        assert any(re.fullmatch(p, line) for p in LINE_PATTERNS), f"unexpected line {line!r}"
    ours, theirs = text.splitlines(), template.splitlines()
    end = theirs.index("images: []")
    for mine, original in zip(ours[:end], theirs[:end]):
        if original.startswith(("#", "clustering:", "clusters:", "  - cluster:", "    size:")):
            assert mine == original
        else:
            assert mine.split(":")[0] == original.split(":")[0]
    assert ours[end] in ("images: []", "images:")


# --- labelling with the keyboard, then the workflow ---------------------------------


def test_label_by_keyboard_download_and_run_the_workflow(site_run, session):
    workdir, config = site_run
    report = workdir / "results" / "report"
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    attributes = template_attributes(template)
    assert attributes, "the template has no attribute fields"
    page = session.open(report / PAGE)
    counter = page.locator("#unnamed")
    assert counter.inner_text() == "6 of 6 clusters still unnamed"
    first = attributes[0]

    # cluster 0: '1' jumps to the first attribute field, Enter to the next field, and from
    # the last one to the next cluster's first
    names = [f"{a} zero" for a in attributes]
    page.keyboard.press("1")
    for value in names:
        page.keyboard.type(value)
        page.keyboard.press("Enter")
    assert card_values(page, 0) == {**dict(zip(attributes, names)), "note": ""}
    assert focused_field(page) == ["cluster-1", first]
    # cluster 1: the first letter completes to a value used before, Enter accepts it
    page.keyboard.type(first[0])
    page.keyboard.press("Enter")
    assert card_values(page, 1)[first] == f"{first} zero"
    # cluster 2: '=' takes the previous cluster's values
    go_to(page, 2)
    page.keyboard.press("=")
    assert card_values(page, 2)[first] == f"{first} zero"
    # cluster 3: a hostile value; cluster 4: mixed; cluster 5: bad images
    go_to(page, 3)
    page.keyboard.press("1")
    page.keyboard.type(HOSTILE)
    go_to(page, 4)
    page.keyboard.press("m")
    go_to(page, 5)
    page.keyboard.press("o")
    assert counter.inner_text() == "all 6 clusters named"

    # one image of cluster 0 marked bad from the image view: 't' tiles, Enter view, 'b' bad
    go_to(page, 0)
    page.keyboard.press("t")
    page.keyboard.press("ArrowRight")
    bad_path = page.evaluate("document.activeElement.dataset.path")
    page.keyboard.press("Enter")
    assert page.locator("#viewer").is_visible()
    assert page.locator(".viewer-path").inner_text() == bad_path
    page.keyboard.press("b")
    assert page.locator("#viewer .mark.on").count() == 1
    page.keyboard.press("Escape")
    assert not page.locator("#viewer").is_visible()
    bad_tiles = page.locator(".tile.bad")
    assert bad_tiles.count() >= 1
    assert set(bad_tiles.evaluate_all("ts => ts.map(t => t.dataset.path)")) == {bad_path}
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.locator("#cluster-3 .state").inner_text() == HOSTILE

    # reload: everything is still there (kept in the browser's storage)
    page.reload()
    page.wait_for_load_state("load")
    assert card_values(page, 0)[first] == f"{first} zero"
    assert card_values(page, 3)[first] == HOSTILE
    assert page.locator("#cluster-4 input[data-flag=mixed]").is_checked()
    assert page.locator("#cluster-5 input[data-flag=outlier]").is_checked()
    assert page.locator(".tile.bad").count() >= 1
    assert counter.inner_text() == "all 6 clusters named"

    # download: the label file format, named after the clustering
    data, name = download(page)
    assert name == TEMPLATE
    text = data.decode("utf-8")
    assert_label_file_format(text, template.read_text(encoding="utf-8"))
    document = yaml.safe_load(text)
    by_cluster = {c["cluster"]: c for c in document["clusters"]}
    assert by_cluster[0][first] == by_cluster[1][first] == by_cluster[2][first] == f"{first} zero"
    assert [by_cluster[0][a] for a in attributes] == names
    assert by_cluster[3][first] == HOSTILE
    assert by_cluster[4]["mixed"] is True and by_cluster[5]["outlier"] is True
    assert document["images"] == [{"path": bad_path, "outlier": True}]
    session.check_clean()

    # the workflow turns the file into labels
    (workdir / "config" / "labels").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "labels" / TEMPLATE).write_bytes(data)
    write_config(workdir / "config.yaml", {
        **config, "labels": [{"clustering": CLUSTERING, "file": f"config/labels/{TEMPLATE}"}]})
    run_snakemake(workdir, "--cores", "2", "--configfile", "config.yaml")
    labels = pd.read_parquet(workdir / "results" / "labels" / "labels.parquet")
    clusters = pd.read_parquet(workdir / "results" / "clusters" / "osnet" / "pca12" / "k6"
                               / "assignments.parquet")
    merged = labels.merge(clusters, on="paths")
    named = merged[merged["cluster"].isin([0, 1, 2]) & (merged["paths"] != bad_path)]
    assert (named[first] == f"{first} zero").all()
    assert (merged.loc[merged["cluster"] == 3, first] == HOSTILE).all()
    assert merged.loc[merged["cluster"] == 5, "labelled_outlier"].all()
    bad = labels.set_index("paths").loc[bad_path]
    assert bool(bad["labelled_outlier"]), "the image marked bad is not a labelled outlier"

    # the rebuilt page shows the propagated labels on the cards, the hostile value as text
    page = session.open(report / PAGE)
    assert f"{first} zero" in page.locator("#cluster-0 .propagated").inner_text()
    assert HOSTILE in page.locator("#cluster-3 .propagated").inner_text()
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    index = session.open(report / "index.html")
    assert index.get_by_role("heading", name="Accuracy of the propagated labels").is_visible()
    session.check_clean()


# --- the label file: round trip, refusals ------------------------------------------


def edited_copy(template_text, attributes):
    """The template with values written as the browser writes them (JSON strings)."""
    lines, cluster = [], None
    for line in template_text.splitlines():
        match = re.fullmatch(r"  - cluster: (\d+).*", line)
        cluster = int(match.group(1)) if match else cluster
        key = line.strip().split(":")[0]
        if cluster == 0 and key in attributes:
            line = f"    {key}: " + json.dumps(VALUE, ensure_ascii=False)
        elif cluster == 1 and key == "note":
            line = '    note: "a note: with # and \\t tab"'
        elif cluster == 2 and key == "mixed":
            line = "    mixed: true"
        lines.append(line)
    images = ["images:", '  - path: "veriwild/1/00001/000001.jpg"', "    outlier: true",
              '  - path: "veriwild/1/00001/000002.jpg"', "    not_cluster: true",
              f"    {attributes[0]}: " + json.dumps("from the image"), '    note: "taxi"']
    lines = lines[:lines.index("images: []")] + images
    return "\n".join(lines) + "\n"


def test_round_trip_is_byte_identical(demo_run, session, tmp_path):
    workdir, _, _ = demo_run
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    page = session.open(workdir / "results" / "report" / PAGE)
    # no edits: the download is the template, byte for byte
    assert download(page)[0] == template.read_bytes()
    # open a file with edits (quotes, backslash, unicode, hostile text, image entries)
    attributes = template_attributes(template)
    edited = tmp_path / TEMPLATE
    edited.write_text(edited_copy(template.read_text(encoding="utf-8"), attributes),
                      encoding="utf-8")
    page.set_input_files("#openfile", str(edited))
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Opened')")
    assert card_values(page, 0)[attributes[0]] == VALUE
    assert card_values(page, 1)["note"] == "a note: with # and \t tab"
    assert page.locator("#cluster-2 input[data-flag=mixed]").is_checked()
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert download(page)[0] == edited.read_bytes()
    # and it survives a reload the same way
    page.reload()
    page.wait_for_load_state("load")
    assert download(page)[0] == edited.read_bytes()
    session.check_clean()


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("clustering: osnet/pca12/k6", "clustering: osnet/pca12/k4"),
     "this file is for clustering osnet/pca12/k4"),
    (lambda t: t.replace("    mixed: false", "    mixed: maybe", 1),
     "'mixed' must be true or false"),
    (lambda t: t.replace("    size:", "    sizes:", 1), "expected 'size: <number>'"),
    (lambda t: t.replace("images: []", "images: []\nextra: 1"), "unexpected text"),
    (lambda t: "{}\n", "expected 'clustering:"),
], ids=["another clustering", "not true or false", "a key renamed", "text after the images",
        "not a label file"])
def test_other_files_are_refused_with_a_visible_message(demo_run, session, tmp_path, change,
                                                       message):
    workdir, _, _ = demo_run
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    page = session.open(workdir / "results" / "report" / PAGE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(change(template.read_text(encoding="utf-8")), encoding="utf-8")
    page.set_input_files("#openfile", str(bad))
    status = page.locator("#status")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Not opened')")
    assert status.is_visible() and message in status.text_content()
    assert re.search(r"line \d+: ", status.text_content())
    assert status.get_attribute("role") == "alert"
    assert download(page)[0] == template.read_bytes()  # nothing was changed
    session.check_clean()


def test_hand_edited_values_are_read(demo_run, session, tmp_path):
    workdir, _, _ = demo_run
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    first = template_attributes(template)[0]
    text = template.read_text(encoding="utf-8")
    text = text.replace(f'    {first}: ""', f"    {first}: sedan", 1)
    text = text.replace('    note: ""', "    note: 'it''s a van'  # by hand", 1)
    edited = tmp_path / "hand.yaml"
    edited.write_text(text, encoding="utf-8")
    page = session.open(workdir / "results" / "report" / PAGE)
    page.set_input_files("#openfile", str(edited))
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Opened')")
    assert card_values(page, 0)[first] == "sedan"
    assert card_values(page, 0)["note"] == "it's a van"
    written = download(page)[0].decode("utf-8")
    assert f'    {first}: "sedan"' in written and '    note: "it\'s a van"' in written
    session.check_clean()


def test_labels_kept_for_another_run_are_not_applied(demo_run, session):
    workdir, _, _ = demo_run
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    page = session.open(workdir / "results" / "report" / PAGE)
    first = template_attributes(template)[0]
    stale = re.sub(r"    size: \d+", "    size: 1", template.read_text(encoding="utf-8"))
    stale = stale.replace(f'    {first}: ""', f'    {first}: "stale"', 1)
    page.evaluate("text => localStorage.setItem('descluster:' + DC.pageData.run + ':' + "
                  "DC.pageData.clustering, text)", stale)
    page.reload()
    page.wait_for_load_state("load")
    assert "do not fit this run" in page.locator("#status").text_content()
    assert card_values(page, 0)[first] == ""
    assert download(page)[0] == template.read_bytes()
    session.check_clean()


def test_a_template_in_another_format_shows_the_cards_without_forms(demo_run, session, tmp_path):
    workdir, _, _ = demo_run
    report = tmp_path / "report"
    shutil.copytree(workdir / "results" / "report", report)
    data = report / "files" / "data" / "osnet_pca12_k6.js"
    data.write_text(data.read_text(encoding="utf-8").replace("images: []", ""), encoding="utf-8")
    page = session.open(report / PAGE)
    assert "is not in the format this page reads" in page.locator("#status").text_content()
    assert page.locator(".card").count() == 6 and page.locator(".labelform").count() == 0
    assert page.locator("#download").is_disabled()
    page.keyboard.press("t")
    page.keyboard.press("Enter")
    assert page.locator("#viewer").is_visible() and page.locator("#viewer .mark").count() == 0
    assert session.refused == [] and session.dialogs == []


# --- pictures, galleries, tables, requests -----------------------------------------


def test_gallery_shows_every_member_nearest_first(demo_run, session):
    workdir, _, _ = demo_run
    members = pd.read_parquet(workdir / "results" / "clusters" / "osnet" / "pca12" / "k6"
                              / "assignments.parquet")
    cluster = int(members["cluster"].value_counts().idxmax())  # the largest: two pages
    expected = members[members["cluster"] == cluster].sort_values("distance", kind="stable")
    page = session.open(workdir / "results" / "report" / PAGE)
    page.locator(f"#cluster-{cluster}").focus()
    page.keyboard.press("g")
    seen = []
    while True:
        page.wait_for_function("document.querySelectorAll('#gallery .tile').length > 0")
        seen += page.eval_on_selector_all("#gallery .tile", "ts => ts.map(t => t.dataset.path)")
        if page.locator("#gallery button", has_text="next page").is_disabled():
            break
        before = seen[-1]
        page.keyboard.press("]")
        page.wait_for_function(
            "p => document.querySelector('#gallery .tile').dataset.path !== p", arg=before)
    assert seen == expected["paths"].tolist()
    # a tile of the gallery opens the image view with its distance
    page.keyboard.press("Enter")
    assert page.locator(".viewer-path").inner_text() in seen
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert not page.locator("#gallery").is_visible()
    session.check_clean()


def test_every_page_stays_on_file_and_has_no_console_errors(demo_run, session):
    workdir, _, _ = demo_run
    report = workdir / "results" / "report"
    for html in sorted(report.glob("*.html")):
        page = session.open(html)
        page.wait_for_function("document.body.hasAttribute('data-broken-images')")
        assert page.get_attribute("body", "data-broken-images") == "0", html.name
        page.close()
    assert all(url.startswith("file://") for url in session.requests)
    session.check_clean()
    for path in report.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/",
                                 path.read_text(encoding="utf-8")), f"{path} names a URL"


def test_tables_sort_and_filter(demo_run, session):
    workdir, _, _ = demo_run
    page = session.open(workdir / "results" / "report" / "index.html")
    table = page.locator("table.sortable").first
    headers = table.locator("thead th").all_inner_texts()
    column = headers.index("purity") if "purity" in headers else headers.index("suggested_k")

    def values():
        return table.locator("tbody tr:not([hidden])").evaluate_all(
            f"rows => rows.map(r => Number(r.cells[{column}].dataset.v ?? "
            f"r.cells[{column}].textContent))")

    table.locator("thead th").nth(column).click()
    assert values() == sorted(values())
    table.locator("thead th").nth(column).click()
    assert values() == sorted(values(), reverse=True)
    first = table.locator("tbody tr").first.locator("td").first.inner_text()
    page.locator(".filter").first.fill(first)
    shown = table.locator("tbody tr:not([hidden])").all_inner_texts()
    assert shown and all(first in row for row in shown)
    session.check_clean()


def test_outliers_page_pages_every_flagged_image(demo_run, session):
    workdir, _, _ = demo_run
    scores = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    n_flagged = int(scores["flag"].sum())
    page = session.open(workdir / "results" / "report" / "outliers.html")
    assert page.locator("#flagged .count").inner_text().startswith(f"{n_flagged} of {n_flagged}")
    tiles = page.locator("#flagged .tile")
    assert tiles.count() == min(n_flagged, 60)
    top = scores.sort_values("combined_score", ascending=False, kind="stable")["paths"].iloc[0]
    assert tiles.first.get_attribute("data-path") == top
    page.select_option("#sort", "kind")
    tiles.first.click()
    assert page.locator("#viewer").is_visible()
    assert "kind" in page.locator(".viewer-info").inner_text()
    page.keyboard.press("Escape")
    session.check_clean()


def test_outliers_page_marks_bad_images_in_a_clustering_label_file(demo_run, session):
    workdir, _, _ = demo_run
    page = session.open(workdir / "results" / "report" / "outliers.html")
    page.select_option("#markin", label=CLUSTERING)
    first = page.locator("#flagged .tile").first
    path = first.get_attribute("data-path")
    first.click()
    page.keyboard.press("b")
    assert "marked bad in the label file of " + CLUSTERING in page.text_content("#status")
    page.keyboard.press("Escape")
    assert "bad" in first.get_attribute("class").split()
    key = f"descluster:{(workdir / 'results').resolve()}:{CLUSTERING}"
    kept = yaml.safe_load(page.evaluate("key => localStorage.getItem(key)", key))
    assert kept["images"] == [{"path": path, "outlier": True}]
    # the clustering page starts from what the outliers page kept: its download holds the mark
    labelling = session.open(workdir / "results" / "report" / PAGE)
    labelling.wait_for_selector(".card")
    downloaded, _ = download(labelling)
    assert yaml.safe_load(downloaded)["images"] == [{"path": path, "outlier": True}]
    # another clustering's label file does not have the mark; b again takes it back
    other = next(o for o in page.locator("#markin option").all_inner_texts() if o != CLUSTERING)
    page.select_option("#markin", label=other)
    assert "bad" not in first.get_attribute("class").split()
    page.select_option("#markin", label=CLUSTERING)
    assert "bad" in first.get_attribute("class").split()
    first.click()
    page.keyboard.press("b")
    page.keyboard.press("Escape")
    assert "bad" not in first.get_attribute("class").split()
    kept = yaml.safe_load(page.evaluate("key => localStorage.getItem(key)", key))
    assert kept["images"] == []
    session.check_clean()
