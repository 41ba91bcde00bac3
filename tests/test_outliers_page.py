"""The outliers page's histogram of the combined score, in headless Chromium (as
tests/test_browser.py drives it: Playwright on Debian's /usr/bin/chromium, file:// only)."""

import pandas as pd
import pytest

from test_browser import browser, pytestmark, session  # noqa: F401 - fixtures and skips

pytestmark = [*pytestmark, pytest.mark.slow]


def test_outliers_page_shows_the_score_histogram_with_the_cut_and_the_rate(demo_run, session):  # noqa: F811
    workdir, _, _ = demo_run
    scores = pd.read_parquet(workdir / "results" / "outliers" / "outliers.parquet")
    summary = pd.read_csv(workdir / "results" / "summary" / "outliers.tsv", sep="\t")
    cut = summary[(summary["scope"] == "combined") & (summary["kind"] == "all")].iloc[0]
    page = session.open(workdir / "results" / "report" / "outliers.html")
    chart = page.locator("#histogram svg.histogram")
    assert chart.count() == 1
    hist = page.evaluate("() => DC.outlierData.histogram")
    # every image is counted once: in a bin, or in the bar of the scores above the range
    assert sum(hist["counts"]) + hist["above"] == hist["n"] == len(scores)
    assert hist["threshold"] == pytest.approx(cut["threshold"], rel=1e-5)
    assert hist["low"] <= hist["threshold"] <= hist["high"]
    bars = page.locator("#histogram rect.bin")
    assert bars.count() == sum(1 for c in hist["counts"] if c) + (1 if hist["above"] else 0)
    # the cut is drawn where the threshold lies on the score axis
    line = page.locator("#histogram line.cut")
    x = float(line.get_attribute("x1"))
    frame = page.evaluate("""() => {
        const axis = document.querySelector('#histogram line');  // the score axis, drawn first
        return [Number(axis.getAttribute('x1')), Number(axis.getAttribute('x2'))]; }""")
    assert x == pytest.approx(frame[0] + (frame[1] - frame[0]) * (hist["threshold"] - hist["low"])
                              / (hist["high"] - hist["low"]), abs=0.01)
    # bins wholly right of the cut are drawn as flagged
    colours = page.evaluate("""() => Array.from(document.querySelectorAll('#histogram rect.bin'))
        .map(r => [r.getAttribute('fill'), r.querySelector('title').textContent])""")
    assert any(fill == "#d00000" for fill, _ in colours)
    # the line under it: how many were flagged, the rate used and how it was found
    text = page.locator("#cutline").inner_text()
    n_flagged = int(scores["flag"].sum())
    assert text.startswith(f"Flagged: {n_flagged} of {len(scores)} images (")
    assert cut["cut"] == "robust z > 3" and "robust z > 3 (the default: the rate comes from the data)" in text
    assert cut["rate"] == pytest.approx(n_flagged / len(scores), rel=1e-5)
    # the tiny demo's planted images score far above the rest: the bar apart says what it holds
    assert hist["above"] > 0 and f"the {hist['above']} highest-scoring images (above " in text
    # no label file listed: the marks go to the index's recommendation for the first label
    # field (type), and the page says it is a default
    recommended = pd.read_csv(workdir / "results" / "summary" / "recommended.tsv", sep="\t")
    expected = recommended.set_index("attribute").loc["type", "clustering"]
    assert page.locator("#markin option:checked").inner_text() == expected
    assert "default" in page.locator("#working-note").inner_text()
    session.check_clean()
