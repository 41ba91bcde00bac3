"""One advice on which clustering to label: with ground truth the recommendation
(recommended.tsv), the k-scan's lowest Davies-Bouldin only an index value; without ground
truth the k-scan's suggestion, said as such. Checked in the tables, the k-scan figure's
title and every text that speaks of a suggested k."""

import re

import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT
from descluster import plots
from descluster.attributes import save_attribute_codes
from descluster.steps import kscan

SEED = 0


@pytest.fixture(scope="module", params=[True, False], ids=["truth", "no truth"])
def summarized(request, tmp_path_factory):
    """A 3-group k-scan summarized with or without ground truth: (has_truth, suggested)."""
    out = tmp_path_factory.mktemp("advice")
    rng = np.random.default_rng(SEED)
    group = np.repeat(np.arange(3), 40)
    X = ((rng.normal(size=(3, 4)) * 6)[group] + rng.normal(size=(120, 4))).astype(np.float32)
    np.save(out / "reduced.npy", X)
    codes = None
    if request.param:
        codes = out / "codes.npz"
        save_attribute_codes({"type": group.astype(np.int16)}, {"type": ["sedan", "suv", "bus"]},
                             codes)
    for k in (2, 3, 4):
        kscan.scan_k(reduced_npy=out / "reduced.npy", model="m", variant="pca4", k=k, seed=SEED,
                     n_init=1, max_iter=50, rows_per_cluster=0, min_rows=0, silhouette_sample=100,
                     out_tsv=out / f"k{k}.tsv", out_centroids=out / f"k{k}.npy",
                     attribute_codes=codes)
    kscan.summarize_kscan(row_tsvs=[out / f"k{k}.tsv" for k in (2, 3, 4)],
                          out_scan=out / "kscan.tsv", out_suggested=out / "suggested.tsv",
                          out_effort=out / "effort.tsv")
    kscan.plot_kscan(scan_tsv=out / "kscan.tsv", suggested_tsv=out / "suggested.tsv", model="m",
                     out_png=out / "kscan.png")
    assert (out / "kscan.png").stat().st_size > 0
    return request.param, pd.read_csv(out / "suggested.tsv", sep="\t", keep_default_na=False)


def test_the_lowest_davies_bouldin_is_advice_only_without_ground_truth(summarized):
    has_truth, suggested = summarized
    assert suggested["advice"].tolist() == [kscan.ADVICE[has_truth]]
    title, _ = plots.kscan_title("m", suggested)
    if has_truth:
        assert "an index value" in title and "recommendation" in title
        assert "suggest" not in title
    else:
        assert "the k-scan's suggestion" in title and "no ground truth" in title


DOCS = ["README.md", "docs/outputs.md", "docs/browser.md", "workflow/report/kscan.rst",
        "workflow/report/suggested_k.rst", "workflow/report/model_digest.rst"]


# a suggested k in words (not the column suggested_k, nor the forms' suggestions of values)
SUGGESTION = re.compile(r"suggested k\b|k-scan's suggestion|[Tt]he suggestion is")


def sentences(text):
    """The sentences of a text, a table row or list item being one block at least."""
    blocks = re.split(r"\n\s*\n|\n(?=\s*[|*-] |\s*\d+\. )", text)
    for block in blocks:
        yield from re.split(r"(?<=[.!?])\s", re.sub(r"\s+", " ", block))


@pytest.mark.parametrize("name", DOCS)
def test_no_text_offers_the_k_scans_suggestion_as_advice_when_there_is_ground_truth(name):
    # every sentence that speaks of a suggested k says what it is worth: advice only without
    # ground truth, an index value beside the recommendation otherwise
    for sentence in sentences((REPO_ROOT / name).read_text(encoding="utf-8")):
        if SUGGESTION.search(sentence):
            assert re.search(r"ground truth|index value|recommend", sentence), sentence
