"""The offline browser in a real headless Chromium (Playwright driving the system Chromium).

Pages are opened from file:// as a user would; every request is recorded and any that
does not stay on file:// is refused and fails the test.
"""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import run_snakemake, write_config
from descluster import demo, labelfile, labels, site
from test_labelling import labelled_copy

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


def mark_first_image_bad(page):
    """On the current card: 't' to its tiles, Enter opens the first image, 'b' marks it bad,
    Esc closes the view; returns the image's path."""
    page.keyboard.press("t")
    path = page.evaluate("document.activeElement.dataset.path")
    page.keyboard.press("Enter")
    page.keyboard.press("b")
    page.keyboard.press("Escape")
    return path


def target_of(page, clustering):
    """The page's data about a clustering whose labels it edits: {name, base: {hash...}}."""
    return page.evaluate("""name => {
        const d = DC.pageData || DC.outlierData;
        return d.target || d.clusterings.find(c => c.name === name); }""", clustering)


def kept(page, clustering):
    """The label file text this browser keeps for a clustering (its unsaved edits), or None."""
    target = target_of(page, clustering)
    return page.evaluate("t => DC.store.read(t.name, t.base.hash)", target)


def keep(page, clustering, text):
    """Put text into this browser's storage as the clustering's unsaved edits."""
    target = target_of(page, clustering)
    page.evaluate("([t, text]) => DC.store.write(t.name, t.base.hash, text)", [target, text])


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
    merged = labels.drop(columns="paths").join(clusters, on="row")  # by row: the paths differ
    named = merged[merged["cluster"].isin([0, 1, 2]) & (merged["paths"] != bad_path)]
    assert (named[first] == f"{first} zero").all()
    assert (merged.loc[merged["cluster"] == 3, first] == HOSTILE).all()
    assert merged.loc[merged["cluster"] == 5, "labelled_outlier"].all()
    bad = merged.set_index("paths").loc[bad_path]
    assert bool(bad["labelled_outlier"]), "the image marked bad is not a labelled outlier"
    assert bad[first] == "", "an image marked bad has no values"

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
            line = '    note: "a note: with # and \\" quote"'
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
    assert card_values(page, 1)["note"] == 'a note: with # and " quote'
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
     'the file is for clustering "osnet/pca12/k4", not "osnet/pca12/k6"'),
    (lambda t: t.replace("    mixed: false", "    mixed: maybe", 1),
     "'mixed' must be true or false"),
    (lambda t: t.replace("    size:", "    sizes:", 1), "expected '    size: <number>'"),
    (lambda t: t.replace("images: []", "images: []\nextra: 1"), "unexpected text"),
    (lambda t: "{}\n", "expected 'clustering:'"),
    (lambda t: t.replace('    note: ""', "    note: 'it''s'", 1), "write the value in double quotes"),
], ids=["another clustering", "not true or false", "a key renamed", "text after the images",
        "not a label file", "single quotes"])
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
    text = text.replace(f'    {first}: ""', f"    {first}: sedan", 1)  # a plain word
    text = text.replace('    note: ""', "    note: dark blue van  # by hand", 1)
    edited = tmp_path / "hand.yaml"
    edited.write_text(text, encoding="utf-8")
    page = session.open(workdir / "results" / "report" / PAGE)
    page.set_input_files("#openfile", str(edited))
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Opened')")
    assert card_values(page, 0)[first] == "sedan"
    assert card_values(page, 0)["note"] == "dark blue van"
    written = download(page)[0].decode("utf-8")
    assert f'    {first}: "sedan"' in written and '    note: "dark blue van"' in written
    session.check_clean()


def test_labels_kept_for_another_run_are_not_applied(demo_run, session):
    workdir, _, _ = demo_run
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    page = session.open(workdir / "results" / "report" / PAGE)
    first = template_attributes(template)[0]
    stale = re.sub(r"    size: \d+", "    size: 1", template.read_text(encoding="utf-8"))
    stale = stale.replace(f'    {first}: ""', f'    {first}: "stale"', 1)
    keep(page, CLUSTERING, stale)
    page.reload()
    page.wait_for_load_state("load")
    assert "were not taken (its clusters or their sizes are not this run's)" in \
        page.locator("#status").text_content()
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


def test_a_page_moved_away_from_its_files_says_so(demo_run, session, tmp_path):
    page_file = demo_run[0] / "results" / "report" / PAGE
    html = page_file.read_text(encoding="utf-8")
    # the page check (browser/check.js) is inlined in the head, without the file's comment
    head = html[:html.index("</head>")]
    assert "data-broken-images" in head and "readers of this file" not in head
    shutil.copy(page_file, tmp_path / PAGE)  # without files/ beside it
    page = session.open(tmp_path / PAGE)
    page.wait_for_function("document.body.hasAttribute('data-broken-images')")
    assert int(page.get_attribute("body", "data-broken-images")) >= 4  # css, 3 scripts, data
    warning = page.locator("#broken")
    assert warning.is_visible() and "could not be loaded" in warning.inner_text()
    assert session.refused == [] and session.dialogs == []


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
    assert yaml.safe_load(kept(page, CLUSTERING))["images"] == [{"path": path, "outlier": True}]
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
    assert kept(page, CLUSTERING) is None  # no unsaved change left: nothing kept
    session.check_clean()


# --- keys: one table per context, the help written from it --------------------------

# Every keydown is recorded (capturing, before the page's handlers): whether the page took
# a key is whether its default was prevented, which the dispatcher does for every key it takes.
RECORD_KEYS = ("window.__keys = []; "
               "window.addEventListener('keydown', e => window.__keys.push(e), true);")
TRIED_KEYS = (list("abcdefghijklmnopqrstuvwxyz0123456789[]=-+?/.,;'") +
              ["Enter", "Escape", "PageUp", "PageDown", "ArrowLeft", "ArrowRight", "ArrowUp",
               "ArrowDown", " ", "Ctrl+j", "Ctrl+s", "Alt+j"])


def key_tables(page, names):
    """The entries of the named key tables as the page has them now: keys, label, does,
    and each key as the help writes it."""
    return page.evaluate("""names => names.map(name => DC.keys.tables[name].entries().map(e =>
        ({keys: e.keys, label: e.label, does: e.does, shown: e.keys.map(DC.keys.display)})))""",
                         names)


def taken(page, key):
    """Press a key (a key table's name for it); whether the page took it."""
    page.keyboard.press(key.replace("Ctrl+", "Control+"))
    return page.evaluate("window.__keys[window.__keys.length - 1].defaultPrevented")


def assert_keys_match_help(session, path, setup, names, help_selector, attribute=None):
    """In the context `setup` makes, the tables `names` are what the handler dispatches to:
    the help (the text, or the attribute, of help_selector) lists each entry with each of
    its keys, every listed key is taken (each from a fresh `setup`), and no other key of
    TRIED_KEYS is. Returns the listed keys."""
    page = session.open(path)
    setup(page)
    shown = page.locator(help_selector).first
    help_text = shown.get_attribute(attribute) if attribute else shown.text_content()
    tables = key_tables(page, names)
    assert all(tables), f"an empty key table among {names}"
    listed = set()
    for entry in (e for table in tables for e in table):
        assert f"{entry['label']} {entry['does']}" in help_text, (entry, help_text)
        assert all(shown in entry["label"] for shown in entry["shown"]), entry
        listed.update(entry["keys"])
    for key in sorted(listed):
        page.reload()
        page.wait_for_load_state("load")
        setup(page)
        assert taken(page, key), f"{path.name}: {key!r} is in the help but not taken"
    page.reload()
    page.wait_for_load_state("load")
    setup(page)
    for key in TRIED_KEYS:
        if key not in listed:
            assert not taken(page, key), f"{path.name}: {key!r} is taken but not in the help"
    return listed


def test_the_help_lists_exactly_the_keys_each_page_takes(demo_run, session):
    workdir, _, _ = demo_run
    report = workdir / "results" / "report"
    session.context.add_init_script(RECORD_KEYS)
    members = pd.read_parquet(workdir / "results" / "clusters" / "osnet" / "pca12" / "k6"
                              / "assignments.parquet")
    largest = int(members["cluster"].value_counts().idxmax())  # two gallery pages

    def on_a_card(page):  # the second card (so that k and = have one before it)
        page.keyboard.press("j")

    def in_a_field(page):  # the second card's first field, empty
        page.keyboard.press("j")
        page.keyboard.press("1")

    def on_a_picture(page):
        page.keyboard.press("t")

    def in_the_view(page):  # the second picture of the first card
        page.keyboard.press("t")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")

    def in_the_gallery(page):  # on its second page, a picture focused
        page.locator(f"#cluster-{largest}").focus()
        page.keyboard.press("g")
        page.wait_for_function("document.querySelectorAll('#gallery .tile').length > 0")
        page.click("#gallery button:has-text('next page')")
        page.wait_for_function("document.querySelector('#gallery .gallery-title')"
                               ".textContent.includes('page 2 of')")
        page.locator("#gallery .tile").first.focus()

    labelling = report / PAGE
    keys = {}
    keys["cards"] = assert_keys_match_help(session, labelling, on_a_card,
                                           ["cards", "label file"], "#help")
    assert {"j", "k", "1", "n", "m", "o", "=", "Enter", "t", "g", "?", "Ctrl+s"} <= keys["cards"]
    keys["field"] = assert_keys_match_help(session, labelling, in_a_field,
                                           ["label form", "label file"], "#help")
    assert {"Enter", "=", "Escape"} <= keys["field"]
    keys["picture"] = assert_keys_match_help(session, labelling, on_a_picture,
                                             ["pictures", "cards", "label file"], "#help")
    keys["view"] = assert_keys_match_help(session, labelling, in_the_view,
                                          ["image view", "label file"], ".viewer-help")
    assert {"b", "n", "ArrowLeft", "ArrowRight", "Escape", "Ctrl+s"} <= keys["view"]
    keys["gallery"] = assert_keys_match_help(session, labelling, in_the_gallery,
                                             ["gallery", "label file", "pictures"],
                                             "#gallery .help")
    assert {"[", "]", "PageUp", "PageDown", "Escape", "g", "ArrowDown"} <= keys["gallery"]

    outliers = report / "outliers.html"
    assert_keys_match_help(session, outliers, lambda page: None, ["flagged images", "marks"],
                           "#flagged .help")
    assert_keys_match_help(session, outliers,
                           lambda page: page.locator("#flagged .tile").first.focus(),
                           ["flagged images", "marks", "pictures"], "#flagged .help")

    def on_the_map(page):
        page.wait_for_selector("#map[data-painted]")
        page.locator("#map").focus()

    def on_a_selected_picture(page):
        page.wait_for_selector("body[data-paths=loaded]")
        page.locator("#legend .entry").first.click()
        page.locator("#selected-tiles .tile").first.focus()

    the_map = report / "map_osnet_pca12.html"
    assert_keys_match_help(session, the_map, on_the_map, ["map", "marks"], "#mapbar .help")
    assert_keys_match_help(session, the_map, on_a_selected_picture, ["map", "marks", "pictures"],
                           "#mapbar .help")
    # the mode buttons are named after their keys
    page = session.open(the_map)
    assert page.locator("#mapbar button.mode").all_inner_texts() == [
        "pan (p)", "box select (b)", "lasso (l)"]
    # a sortable table's headers: their keys are in the header's tooltip
    index = report / "index.html"
    assert_keys_match_help(session, index, lambda p: p.locator("th.sort").first.focus(),
                           ["table headers"], "th.sort", "title")
    session.check_clean()


def test_the_image_view_keeps_its_keys_after_a_mark_button_is_clicked(demo_run, session):
    page = session.open(demo_run[0] / "results" / "report" / PAGE)
    page.keyboard.press("t")
    page.keyboard.press("Enter")
    page.click("#viewer .mark[data-mark=outlier]")  # the button is rebuilt: the focus is lost
    assert page.locator("#viewer .mark.on").count() == 1
    page.keyboard.press("b")
    assert page.locator("#viewer .mark.on").count() == 0
    page.keyboard.press("Escape")
    assert not page.locator("#viewer").is_visible()
    session.check_clean()


def test_typing_in_a_field_does_not_trigger_page_keys(demo_run, session):
    workdir, _, _ = demo_run
    template = workdir / "results" / "labels" / "templates" / TEMPLATE
    first = template_attributes(template)[0]
    page = session.open(workdir / "results" / "report" / PAGE)
    # every key of the cards' table typed into a field is text in the field
    text = "jkunmot?g01 = j"
    page.keyboard.press("1")
    page.keyboard.type(text)
    assert card_values(page, 0)[first] == text
    assert focused_field(page) == ["cluster-0", first]
    assert page.locator("#gallery").count() == 0 or not page.locator("#gallery").is_visible()
    assert not page.locator("#cluster-0 input[data-flag=mixed]").is_checked()
    assert not page.locator("#cluster-0 input[data-flag=outlier]").is_checked()
    assert "big" not in (page.get_attribute("#help", "class") or "")
    # the note too
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    page.keyboard.type("m o = g")
    assert card_values(page, 0)["note"] == "m o = g"
    assert page.evaluate("document.querySelectorAll('.card.current').length") == 1
    assert page.get_attribute(".card.current", "id") == "cluster-0"
    # the outliers page's filter: [ and ] are text, the page stays the first
    outliers = session.open(workdir / "results" / "report" / "outliers.html")
    where = outliers.locator("#flagged .count").inner_text()
    outliers.locator("#flagged .filter").focus()
    outliers.keyboard.type("]]")
    assert outliers.locator("#flagged .filter").input_value() == "]]"
    outliers.keyboard.press("Backspace")
    outliers.keyboard.press("Backspace")
    assert outliers.locator("#flagged .count").inner_text() == where
    session.check_clean()


# --- the team's labelling day (issue 19): the team's config shape, files listed ---------
# labelled_run (tests/test_labelling.py): the demo run with vehicle_info.txt alone as ground
# truth, type's label_values a closed list, vdc_color/pca4/k3 (colour) and osnet/pca12/k6
# (type, view, colour; cluster 0 bad images; three image entries) listed under 'labels'.

TEAM_FILE = "config/labels/osnet_pca12_k6.yaml"
OSNET_TEAM, VDC_TEAM = "osnet/pca12/k6", "vdc_color/pca4/k3"
UNLABELLED = "osnet_pca12_k4.html"  # a clustering with no file listed: its template


@pytest.fixture(scope="module")
def labelled_run(demo_run, tmp_path_factory):
    return labelled_copy(demo_run, tmp_path_factory)


def team_page(labelled_run, session, name=PAGE):
    page = session.open(labelled_run[0] / "results" / "report" / name)
    page.wait_for_selector(".card, .tile, #map[data-painted]")
    return page


def changes(page):
    """The unsaved changes the page lists, one line each."""
    return page.locator("#changes li").all_inner_texts()


def test_the_fields_are_the_label_attributes_and_the_truth_a_breakdown(labelled_run, session):
    page = team_page(labelled_run, session)
    fields = page.eval_on_selector_all("#cluster-1 input[data-field]",
                                       "is => is.map(i => i.dataset.field)")
    assert fields == ["type", "view", "colour", "note"]  # no camera; view although no truth has it
    truth = page.locator("#cluster-1 .truth").inner_text()
    assert "camera" in truth and "type" in truth and "view" not in truth
    session.check_clean()


def test_the_page_starts_from_the_listed_file_in_any_browser_and_copy(labelled_run, session,
                                                                       browser, tmp_path):
    workdir = labelled_run[0]
    listed = (workdir / TEAM_FILE).read_bytes()
    page = team_page(labelled_run, session)
    assert page.locator("#unnamed").inner_text() == "all 6 clusters named"
    assert "from config/labels/osnet_pca12_k6.yaml, the file the run used" in \
        page.locator(".labels-state").inner_text()
    assert "No unsaved change" in page.locator("#unsaved").inner_text()
    first_named = card_values(page, 1)
    assert first_named["type"] and first_named["colour"]
    data, name = download(page)
    assert data == listed and name == "osnet_pca12_k6.yaml"  # never an empty file
    # an edit is kept in this browser under the clustering and the file's hash
    go_to(page, 1)
    page.keyboard.press("o")
    assert "1 unsaved change" in page.locator("#unsaved").inner_text()
    # the report moved (or copied) elsewhere: the same file, the same kept edit
    moved = tmp_path / "elsewhere" / "report"
    shutil.copytree(workdir / "results" / "report", moved)
    copy = session.open(moved / PAGE)
    copy.wait_for_selector(".card")
    assert card_values(copy, 1) == first_named
    assert copy.locator("#cluster-1 input[data-flag=outlier]").is_checked()
    assert changes(copy) == ["cluster 1: marked bad images"]
    # a colleague (another browser profile) opening the copy starts from the file
    colleague = Session(browser)
    try:
        theirs = colleague.open(moved / PAGE)
        theirs.wait_for_selector(".card")
        assert card_values(theirs, 1) == first_named
        assert theirs.locator("#unnamed").inner_text() == "all 6 clusters named"
        assert "No unsaved change" in theirs.locator("#unsaved").inner_text()
        colleague.check_clean()
    finally:
        colleague.context.close()
    page.keyboard.press("Control+z")
    assert "No unsaved change" in page.locator("#unsaved").inner_text()
    assert kept(page, OSNET_TEAM) is None
    session.check_clean()



def test_kept_edits_are_listed_and_text_outside_the_rules_is_not_taken(labelled_run, session):
    workdir = labelled_run[0]
    listed = (workdir / TEAM_FILE).read_text(encoding="utf-8")
    page = team_page(labelled_run, session)
    # another page of this browser (or any file:// page) adds an image entry: it is shown
    added = listed.replace("images:\n", 'images:\n  - path: "veriwild/1/00001/000002.jpg"\n'
                                        "    outlier: true\n", 1)
    keep(page, OSNET_TEAM, added)
    page.reload()
    page.wait_for_selector(".card")
    assert changes(page) == ["image veriwild/1/00001/000002.jpg: marked bad image"]
    assert page.locator("#changes").get_attribute("open") is not None  # shown, not folded
    # kept text outside the grammar, or that the run would refuse, is never used
    for bad in (listed.replace('    type: "', '    type: "\u2028', 1),
                re.sub(r'    type: "[^"]*"', '    type: "sedna"', listed, count=2),
                listed.replace("    mixed: false", "    mixed: true", 2)):
        keep(page, OSNET_TEAM, bad)
        page.reload()
        page.wait_for_selector(".card")
        assert "were not taken" in page.locator("#status").text_content(), bad[:0]
        assert changes(page) == []
        assert download(page)[0].decode("utf-8") == listed
    session.check_clean()


def test_the_page_applies_the_runs_rules_and_a_download_passes_the_run(labelled_run, session,
                                                                     tmp_path):
    workdir = labelled_run[0]
    page = team_page(labelled_run, session)
    types = list(demo.TYPES)
    # a closed list: a value outside it stays in the field, marked, and Enter refuses it
    go_to(page, 1)
    page.keyboard.press("1")
    page.keyboard.type("sedna")
    field = page.locator("#cluster-1 input[data-field=type]")
    assert "invalid" in field.get_attribute("class")
    page.keyboard.press("Enter")
    assert "is not one of type's values" in page.locator("#status").text_content()
    assert focused_field(page) == ["cluster-1", "type"]
    # a number key in the emptied field takes the listed value and moves on
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    page.keyboard.press("2")
    assert card_values(page, 1)["type"] == types[1]
    assert focused_field(page) == ["cluster-1", "view"]
    # mixed clears the values; a value clears mixed: never both
    go_to(page, 2)
    page.keyboard.press("m")
    assert page.locator("#cluster-2 input[data-flag=mixed]").is_checked()
    assert card_values(page, 2)["type"] == "" and card_values(page, 2)["colour"] == ""
    page.keyboard.press("1")
    page.keyboard.type("sedan")
    page.keyboard.press("Enter")
    assert not page.locator("#cluster-2 input[data-flag=mixed]").is_checked()
    assert card_values(page, 2)["type"] == "sedan"
    data, _ = download(page)
    saved = tmp_path / "osnet_pca12_k6.yaml"
    saved.write_bytes(data)
    allowed = {"type": types}
    read = labels.read_label_file(saved, OSNET_TEAM, 6, None, allowed)
    assert read.values["type"][1] == types[1] and read.values["type"][2] == "sedan"
    # and the run takes it
    run = tmp_path / "run"
    shutil.copytree(workdir, run, symlinks=True)
    (run / TEAM_FILE).write_bytes(data)
    run_snakemake(run, "results/labels/labels.parquet", "--cores", "2", "--configfile",
                  "config.yaml")
    session.check_clean()


def test_open_with_unsaved_edits_asks_and_merge_keeps_the_marks(labelled_run, session, tmp_path):
    workdir = labelled_run[0]
    listed = (workdir / "config" / "labels" / "vdc_color_pca4_k3.yaml").read_text(encoding="utf-8")
    page = team_page(labelled_run, session, "vdc_color_pca4_k3.html")
    # unsaved edits: a note and an image marked bad
    go_to(page, 0)
    page.keyboard.press("n")
    page.keyboard.type("checked")
    page.keyboard.press("Escape")
    marked = mark_first_image_bad(page)
    assert len(changes(page)) == 2
    other = tmp_path / "colleague.yaml"
    other.write_text(re.sub(r'    colour: "[^"]*"', '    colour: "purple"', listed, count=2),
                     encoding="utf-8")

    def open_file():
        unsaved = len(changes(page))
        page.set_input_files("#openfile", str(other))
        page.wait_for_selector("#question")
        assert f"{unsaved} unsaved changes" in page.locator("#question").inner_text()

    open_file()
    page.keyboard.press("Escape")  # cancel: nothing changes
    assert page.locator("#question").count() == 0 and len(changes(page)) == 2
    open_file()
    page.keyboard.press("m")  # merge: the file's names, the page's note and mark
    assert card_values(page, 0)["colour"] == "purple" and card_values(page, 0)["note"] == "checked"
    assert f"image {marked}: marked bad image" in changes(page)
    open_file()
    page.keyboard.press("r")  # replace: the file as it is
    assert card_values(page, 0)["note"] == ""
    assert not any(marked in line for line in changes(page))
    page.keyboard.press("Control+z")  # back to the merged labels
    assert f"image {marked}: marked bad image" in changes(page)
    session.check_clean()


def map_with_all_selected(session, report, working):
    """The osnet/pca12 map marking in `working`, every image selected with a box: (page, count)."""
    the_map = session.open(report / "map_osnet_pca12.html")
    the_map.wait_for_selector("body[data-paths=loaded]")
    the_map.select_option("#markin", label=working)
    the_map.keyboard.press("b")
    box = the_map.locator("#map").bounding_box()
    the_map.mouse.move(box["x"] + 2, box["y"] + 2)
    the_map.mouse.down()
    the_map.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=5)
    the_map.mouse.up()
    return the_map, int(the_map.get_attribute("body", "data-selected"))


def test_undo_takes_back_twenty_actions_and_many_marks_ask_first(labelled_run, session):
    report = labelled_run[0] / "results" / "report"
    template = labelled_run[0] / "results" / "labels" / "templates" / "osnet_pca12_k4.yaml"
    page = team_page(labelled_run, session, UNLABELLED)
    for step in range(24):  # 24 actions: mixed, then bad images, on the four cards in turn
        go_to(page, step % 4)
        page.keyboard.press("o" if step // 4 % 2 else "m")
    assert changes(page)
    for _ in range(24):
        page.keyboard.press("Control+z")
    assert changes(page) == [] and download(page)[0] == template.read_bytes()
    # the map: marks of more than 50 images at once ask first; Ctrl+Z takes them back
    the_map, selected = map_with_all_selected(session, report, "osnet/pca12/k4")
    assert selected > 50
    the_map.click("#mark-bad")
    assert f"{selected} images at once" in the_map.locator("#question").inner_text()
    the_map.keyboard.press("Escape")
    assert kept(the_map, "osnet/pca12/k4") is None
    the_map.click("#mark-bad")
    the_map.keyboard.press("y")
    marks = yaml.safe_load(kept(the_map, "osnet/pca12/k4"))["images"]
    assert len(marks) == selected and all(m["outlier"] for m in marks)
    the_map.locator("#map").focus()
    the_map.keyboard.press("Control+z")
    assert kept(the_map, "osnet/pca12/k4") is None
    session.check_clean()


def wait_for_changes(page, n):
    """Wait until the page lists n unsaved changes (another tab's edit reaches it by an event)."""
    page.wait_for_function("n => document.querySelectorAll('#changes li').length === n", arg=n)


def test_undo_is_one_history_across_pages_and_reloads(labelled_run, session):
    report = labelled_run[0] / "results" / "report"
    name = "osnet/pca12/k4"
    # a bulk mark on the map (asked, then confirmed) is undone on the clustering page
    the_map, selected = map_with_all_selected(session, report, name)
    assert selected > 50
    the_map.click("#mark-notcluster")
    the_map.keyboard.press("y")
    assert len(yaml.safe_load(kept(the_map, name))["images"]) == selected
    page = team_page(labelled_run, session, UNLABELLED)
    assert len(changes(page)) == selected
    page.keyboard.press("Control+z")
    assert "Undone: marked 'not this cluster'" in page.locator("#status").inner_text()
    assert changes(page) == [] and kept(page, name) is None
    # and the reverse: a cluster marked and an image marked on the clustering page, then
    # the page reloaded, are undone on the map, newest first
    go_to(page, 2)
    page.keyboard.press("o")
    path = mark_first_image_bad(page)
    assert changes(page) == ["cluster 2: marked bad images", f"image {path}: marked bad image"]
    page.reload()
    page.wait_for_selector(".card")
    assert not page.locator("#undo").is_disabled()
    the_map.locator("#map").focus()
    the_map.keyboard.press("Control+z")
    assert f"Undone in {name}: marked bad image: {path}" in the_map.locator("#status").inner_text()
    wait_for_changes(page, 1)  # the other tab follows, and says so instead of its last message
    assert changes(page) == ["cluster 2: marked bad images"]
    assert page.locator("#status").inner_text() == (
        "Labels updated: they were changed in another tab of this browser.")
    the_map.keyboard.press("Control+z")
    assert kept(the_map, name) is None
    wait_for_changes(page, 0)
    the_map.keyboard.press("Control+z")  # the bulk mark was undone on the clustering page
    assert the_map.locator("#status").inner_text().startswith(
        "Nothing to undo: this browser keeps the last 50 steps of each clustering")
    assert page.locator("#undo").is_disabled()
    # a mark on the outliers page, undone on the clustering page
    outliers = session.open(report / "outliers.html")
    outliers.wait_for_selector("#flagged .tile")
    outliers.select_option("#markin", label=name)
    first = outliers.locator("#flagged .tile").first
    first.click()
    outliers.keyboard.press("b")
    outliers.keyboard.press("Escape")
    wait_for_changes(page, 1)
    page.keyboard.press("Control+z")
    assert kept(page, name) is None and changes(page) == []
    assert "bad" in page.locator("#status").inner_text()
    outliers.wait_for_function(  # its "marked bad" line would now be wrong
        "() => document.querySelector('#status').textContent.startsWith('Labels updated')")
    session.check_clean()


def test_ctrl_z_in_a_label_field_undoes_its_typing_and_shows_the_value_back(labelled_run,
                                                                           session):
    page = team_page(labelled_run, session)
    go_to(page, 5)
    page.keyboard.press("3")  # colour: any value
    before = page.evaluate("document.activeElement.value")
    assert before
    page.keyboard.type("zq")
    assert changes(page) == [f"cluster 5: colour \u201c{before}\u201d \u2192 \u201czq\u201d"]
    page.keyboard.press("Control+z")  # the cursor still in the field
    assert focused_field(page) == ["cluster-5", "colour"]
    assert page.evaluate("document.activeElement.value") == before
    assert changes(page) == [] and kept(page, OSNET_TEAM) is None
    assert "0 left" in page.locator("#status").inner_text()
    # an inline completion ("mi" -> a listed type starting so) is undone as well
    go_to(page, 2)
    page.keyboard.press("1")
    before = page.evaluate("document.activeElement.value")
    page.keyboard.type("mi")
    completed = page.evaluate("document.activeElement.value")
    assert completed.startswith("mi") and len(completed) > 2
    assert changes(page) == [f"cluster 2: type \u201c{before}\u201d \u2192 \u201c{completed}\u201d"]
    page.keyboard.press("Control+z")
    assert focused_field(page) == ["cluster-2", "type"]
    assert page.evaluate("document.activeElement.value") == before and changes(page) == []
    session.check_clean()


def test_ctrl_z_in_a_filter_box_is_the_browsers_not_a_label_undo(labelled_run, session):
    outliers = team_page(labelled_run, session, "outliers.html")
    outliers.wait_for_selector("#flagged .tile")
    first = outliers.locator("#flagged .tile").first
    path = first.get_attribute("data-path")
    first.click()
    outliers.keyboard.press("b")
    outliers.keyboard.press("Escape")
    marked = changes(outliers)
    assert marked == [f"image {path}: marked bad image"]
    for box in (outliers.get_by_label("filter flagged images"),
                outliers.get_by_label("filter rows").first):  # its own and a table's filter
        box.focus()
        outliers.keyboard.type("zz")
        outliers.keyboard.press("Control+z")  # the browser's text undo: the mark stays
        assert changes(outliers) == marked
        assert box.input_value() in ("", "z")  # the typing taken back (by key or at once)
    session.check_clean()


def test_one_working_clustering_for_the_map_and_the_outliers_page(labelled_run, session):
    report = labelled_run[0] / "results" / "report"

    def working(name):
        page = session.open(report / name)
        page.wait_for_selector("#markin")
        return page, page.eval_on_selector("#markin", "s => s.options[s.selectedIndex].text")

    # at first the first clustering listed under 'labels', which the map calls a default
    assert working("outliers.html")[1] == VDC_TEAM
    the_map, name = working("map_osnet_pca12.html")
    assert name == VDC_TEAM
    assert the_map.locator("#working-note").inner_text().startswith(
        "a default (the first listed under 'labels:'): choose another here")
    # chosen once on a clustering page (w), both pages use it, and mark in it
    page = team_page(labelled_run, session)
    page.keyboard.press("w")
    assert "This is the working clustering" in page.locator("#working").inner_text()
    the_map, name = working("map_osnet_pca12.html")
    assert name == OSNET_TEAM and the_map.locator("#working-note").inner_text() == ""
    outliers, name = working("outliers.html")
    assert name == OSNET_TEAM
    assert OSNET_TEAM in outliers.locator(".labels-state").inner_text()
    first = outliers.locator("#flagged .tile").first
    first.click()
    outliers.keyboard.press("b")
    outliers.keyboard.press("Escape")
    path = first.get_attribute("data-path")
    assert f"image {path}: marked bad image" in changes(outliers)
    # chosen on the outliers page: the map follows
    outliers.select_option("#markin", label="efficientnet-b7/pca20/k4")
    assert working("map_osnet_pca12.html")[1] == "efficientnet-b7/pca20/k4"
    session.check_clean()


def test_the_image_view_gives_an_image_its_own_values(labelled_run, session):
    page = team_page(labelled_run, session)
    go_to(page, 1)
    page.keyboard.press("t")
    path = page.evaluate("document.activeElement.dataset.path")
    page.keyboard.press("Enter")
    page.keyboard.press("2")  # its own view
    page.keyboard.type("front")
    page.keyboard.press("Enter")
    assert page.locator("#viewer").is_visible()  # Enter keeps the value, the view stays
    page.keyboard.press("1")  # type: a closed list
    page.keyboard.type("sedna")
    page.keyboard.press("Enter")
    assert "is not one of type's values" in page.locator(".viewer-marks").inner_text()
    page.keyboard.press("Escape")  # back to the picture
    page.keyboard.press("Escape")  # closes the view
    assert not page.locator("#viewer").is_visible()
    assert f"image {path}: view (empty) \u2192 \u201cfront\u201d (its own)" in changes(page)
    document = labelfile.parse(download(page)[0].decode("utf-8"))
    entry = next(i for i in document["images"] if i["path"] == path)
    assert dict(entry["values"]) == {"view": "front"}
    session.check_clean()


def test_the_review_page_lists_the_least_sure_and_fixes_in_place(labelled_run, session):
    workdir = labelled_run[0]
    review = team_page(labelled_run, session, "review_osnet_pca12_k6.html")
    review.wait_for_selector("#review-tiles .tile")
    first = review.locator("#review-tiles .tile").first
    first.focus()
    path = first.get_attribute("data-path")
    value = review.locator("#values").inner_text().split("1 ")[1].split(" \u00b7")[0]
    review.keyboard.press("1")  # the first listed type
    assert "fixed" in first.get_attribute("class").split()
    assert review.evaluate("document.activeElement.dataset.path") != path  # on to the next
    assert f"image {path}: type (empty) \u2192 \u201c{value}\u201d (its own)" in changes(review)
    # the clustering page holds the fix (its download writes it under 'images:')
    labelling = team_page(labelled_run, session)
    document = labelfile.parse(download(labelling)[0].decode("utf-8"))
    assert {"type": value} == dict(next(i for i in document["images"]
                                        if i["path"] == path)["values"])
    # colour: where vdc_color's clusters name it otherwise, a page at a time, read first
    review.keyboard.press("a")
    review.keyboard.press("a")
    assert review.locator("#attribute").input_value() == "2"
    assert review.locator(".listchoice").nth(1).get_attribute("aria-pressed") == "true"
    count = int(re.search(r"disagreements \((\d+)\)",
                          review.locator(".listchoice").nth(1).inner_text()).group(1))
    assert count > 0
    caption = review.locator("#review-tiles .tile .caption").first.inner_text()
    assert VDC_TEAM in caption
    review.keyboard.press("l")  # then the least sure
    assert review.locator(".listchoice").nth(0).get_attribute("aria-pressed") == "true"
    data = json.loads(re.search(r"DC\.page\((.*)\);", (
        workdir / "results" / "report" / "files" / "data" / "review_osnet_pca12_k6.js"
    ).read_text(encoding="utf-8")).group(1))
    assert count == len(data["attributes"][2]["disagree"]["rows"])
    # the fix undone on the clustering page: the review follows and says so
    labelling.keyboard.press("Control+z")
    review.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Labels updated')")
    session.check_clean()


def test_the_review_pages_captions_show_both_values_and_an_empty_list_says_why(labelled_run,
                                                                              session):
    review = team_page(labelled_run, session, "review_osnet_pca12_k6.html")
    review.wait_for_selector("#review-tiles .tile")
    review.locator("#review-tiles .tile").first.focus()
    review.keyboard.press("a")
    review.keyboard.press("a")  # colour: the disagreements with vdc_color first
    assert review.locator(".listchoice").nth(1).get_attribute("aria-pressed") == "true"
    tile = review.locator("#review-tiles .tile").first
    caption = tile.locator(".caption")
    value, other = caption.inner_text().split("\n")
    assert re.fullmatch(r".+ \u00b7 confidence [0-9.e-]+", value)
    assert re.fullmatch(r"here .+ \u00b7 " + re.escape(VDC_TEAM) + ": .+", other)
    # every line readable: nothing cut off, inside the tile
    assert caption.evaluate("c => c.scrollWidth <= c.clientWidth && c.scrollHeight <= c.clientHeight")
    box, inside = caption.bounding_box(), tile.bounding_box()
    assert box["y"] + box["height"] <= inside["y"] + inside["height"] + 1
    assert other in tile.get_attribute("title")
    # the image view says what both clusterings' clusters say
    review.keyboard.press("Enter")
    info = review.locator(".viewer-info").inner_text()
    assert f"colour of its cluster in {VDC_TEAM}\n{other.rsplit(': ', 1)[1]}" in info
    assert "colour of its cluster here\n" + other.split(" \u00b7 ")[0][len("here "):] in info
    review.keyboard.press("Escape")
    # osnet's colour comes nowhere from its clusters (vdc_color is listed first): said why
    review.keyboard.press("l")
    assert review.locator(".listchoice").nth(0).inner_text() == "least sure (0)"
    empty = review.locator("#review-tiles .empty").inner_text()
    assert f"every image's colour comes from {VDC_TEAM}" in empty and "under labels:" in empty
    session.check_clean()


def test_u_on_a_fresh_page_goes_to_cluster_0(labelled_run, session):
    page = team_page(labelled_run, session, UNLABELLED)
    page.keyboard.press("u")
    assert focused_field(page) == ["cluster-0", "type"]
    page.keyboard.type("sedan")
    page.keyboard.press("Escape")
    page.keyboard.press("u")  # then the next unnamed one
    assert focused_field(page) == ["cluster-1", "type"]
    session.check_clean()


def test_the_map_names_labelled_clusters_and_colours_by_confidence(labelled_run, session):
    page = team_page(labelled_run, session, "map_osnet_pca12.html")
    page.wait_for_selector("body[data-paths=loaded]")
    listed = labelfile.parse((labelled_run[0] / TEAM_FILE).read_text(encoding="utf-8"))
    one = listed["clusters"][1]["values"]
    page.select_option("#colourby", label=OSNET_TEAM)
    entries = page.locator("#legend .value").all_inner_texts()
    assert "cluster 0 \u00b7 bad images" in entries
    assert "cluster 1 \u00b7 " + " \u00b7 ".join(v for v in one.values() if v) in entries
    # the view of an image of cluster 1 says its name too
    page.locator("#legend .entry", has_text="cluster 1 \u00b7").click()
    page.locator("#selected-tiles .tile").first.click()
    assert "cluster 1 \u00b7 " in page.locator(".viewer-info").inner_text()
    page.keyboard.press("Escape")
    page.select_option("#colourby", label="type confidence")
    assert set(page.locator("#legend .value").all_inner_texts()) <= {
        ">=0.5", "0.2-0.5", "<0.2", "(unknown)"}
    session.check_clean()


def test_the_review_pages_help_lists_exactly_its_keys(labelled_run, session):
    session.context.add_init_script(RECORD_KEYS)
    review = labelled_run[0] / "results" / "report" / "review_osnet_pca12_k6.html"

    def on_a_picture(page):
        page.wait_for_selector("#review-tiles .tile")
        page.locator("#review-tiles .tile").nth(1).focus()

    listed = assert_keys_match_help(session, review, on_a_picture,
                                    ["review", "label file", "pictures"], "#help")
    assert {"0", "1", "b", "[", "]", "a", "l", "Ctrl+s", "Ctrl+z", "Enter"} <= listed
    assert session.refused == [] and session.dialogs == []


def test_originals_the_workflow_refused_are_never_requested(demo_run, session, tmp_path):
    """An original listed as refused in paths.js (write_paths checks each one as the workflow
    reads pictures) gets no URL: the page shows its thumbnail or a placeholder instead."""
    report = tmp_path / "report"
    shutil.copytree(demo_run[0] / "results" / "report", report, symlinks=True)
    script = report / "paths.js"
    text = script.read_text(encoding="utf-8")
    payload = json.loads(text[text.index("{"):text.rindex("}") + 1])
    assert site.unpack(payload["refused"], np.uint32).size == 0  # the demo's pictures all pass
    payload["refused"] = site.pack(np.array([0]), np.uint32)
    script.write_text(site.script_data("chunk", "paths", payload), encoding="utf-8")
    page = session.open(report / "outliers.html")
    page.wait_for_function("DC.outlierData && DC.originalUrl('r/', 'x.jpg') !== null")
    urls = page.evaluate("""() => new Promise(done => DC.loadPaths(DC.outlierData, paths =>
        done([DC.originalUrl(DC.outlierData.imageRoot, paths[0]),
              DC.originalUrl(DC.outlierData.imageRoot, paths[1])])))""")
    assert urls[0] is None and urls[1] and urls[1].endswith(".jpg")
    session.check_clean()
