"""The undo history of a clustering's labels (browser/labelstate.js, kept by DC.store), run in
node: kept with the edits, so that every page editing a clustering undoes the same steps, in
order, across pages and reloads, bulk marks included, bounded in steps and in size."""

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

import pandas as pd

from descluster import labelfile, site

NODE = shutil.which("node") or "/usr/bin/node"
HARNESS = Path(__file__).with_name("label_state.js")
pytestmark = pytest.mark.skipif(not Path(NODE).exists(), reason="node not found (apt-get install nodejs)")
PATHS = [f"veriwild/{i // 100}/{i:05d}.jpg" for i in range(400)]


def template():
    clusters = [{"id": i, "size": 50 + i, "values": {}, "note": "", "mixed": False,
                 "outlier": False} for i in range(6)]
    return labelfile.serialize({"clustering": "osnet/pca12/k6",
                                "attributes": ["type", "view", "colour"],
                                "clusters": clusters, "images": []})


def run(steps, quota=None, working=None):
    """Each step's {result, text, kept, undoable} (tests/label_state.js); with ``working``
    ({data, names, chosen}) the working clustering instead: {name, note}."""
    browser = resources.files("descluster") / "browser"
    grammar = resources.files("descluster") / "grammar.json"
    with resources.as_file(browser) as browser_dir, resources.as_file(grammar) as grammar_path:
        result = subprocess.run([NODE, str(HARNESS), str(browser_dir), str(grammar_path)],
                                input=json.dumps({"template": template(), "steps": steps,
                                                  "quota": quota, "working": working}),
                                capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout)


def marks(text):
    return len(labelfile.parse(text)["images"])


def test_a_bulk_mark_on_one_page_is_undone_on_another_and_the_reverse():
    start = template()
    out = run([[1, "mark", PATHS[:300], "not_cluster", True],  # the map: a lasso
               [0, "undo"],                                      # the clustering page
               [0, "value", 2, "type", "sedan"],
               [0, "mark", PATHS[:60], "outlier", True],
               [1, "undo"], [1, "undo"]])
    assert marks(out[0]["text"]) == 300 and out[0]["undoable"] == 1
    assert out[1]["result"] == "mark 300" and out[1]["text"] == start and out[1]["kept"] is None
    assert marks(out[3]["text"]) == 60 and out[3]["undoable"] == 2
    assert out[4]["result"] == "mark 60" and marks(out[4]["text"]) == 0
    assert out[5]["result"] == "value" and out[5]["text"] == start
    assert out[5]["undoable"] == 0


def test_the_history_survives_a_reload_and_undoes_in_order():
    out = run([[0, "value", 1, "colour", "red"], [0, "mark", PATHS[:80], "outlier", True],
               [0, "value", 1, "colour", "blue"], [0, "reload"], [1, "reload"],
               [1, "undo"], [0, "undo"], [0, "undo"], [1, "undo"]])
    after = [step["text"] for step in out]
    assert after[5] == after[1]                    # blue taken back: red and the marks
    assert after[6] == after[0]                    # the marks taken back
    assert after[7] == template()                  # red taken back
    assert out[8]["result"] is None                # nothing left
    assert [s["result"] for s in out[5:8]] == ["value", "mark 80", "value"]


def test_typing_in_one_field_is_one_step_and_at_least_twenty_steps_are_kept():
    typing = [[0, "value", 0, "type", "sedan"[:n], "field 0 type"] for n in range(1, 6)]
    out = run(typing + [[0, "undo"]])
    assert out[4]["undoable"] == 1 and out[5]["text"] == template()
    actions = [[i % 2, "mark", PATHS[i * 5:i * 5 + 60], "outlier", True] for i in range(60)]
    out = run(actions + [[i % 2, "undo"] for i in range(60)])
    undone = [s["result"] for s in out[60:]]
    assert out[59]["undoable"] == 50                 # bounded: the newest 50
    assert undone[:50] == ["mark 60"] * 50 and undone[50:] == [None] * 10
    assert marks(out[109]["text"]) == len(PATHS[:9 * 5 + 60])  # the marks of the 10 oldest


def test_edits_win_over_the_history_when_the_storage_is_full():
    # 45,000 characters hold the second mark's edits (31k) or them before it with its undo
    # step (22k + 20k), not both: the edits are kept, the history is dropped
    out = run([[0, "mark", PATHS, "outlier", True], [0, "mark", PATHS, "not_cluster", True]],
              quota=45000)
    assert out[0]["undoable"] == 1 and out[1]["undoable"] == 0
    assert "not_cluster: true" in out[1]["kept"] and marks(out[1]["kept"]) == len(PATHS)


def test_the_same_history_whichever_page_edits_last():
    out = run([[0, "value", 1, "type", "bus"], [1, "value", 2, "type", "van"],
               [0, "value", 2, "type", "sedan"], [1, "undo"], [0, "undo"], [1, "undo"]])
    assert [s["result"] for s in out[3:]] == ["value", "value", "value"]
    assert out[3]["text"] == out[1]["text"] and out[4]["text"] == out[0]["text"]
    assert out[5]["text"] == template()


def test_a_history_that_does_not_lead_to_the_labels_shown_is_dropped():
    # kept edits written behind the history's back (by hand, an older page): undo does
    # nothing rather than restore labels built on other ones
    out = run([[0, "value", 1, "type", "bus"], [0, "value", 2, "type", "van"]])
    other = out[1]["text"].replace('type: "van"', 'type: "sedan"')
    out = run([[0, "value", 1, "type", "bus"], [0, "value", 2, "type", "van"],
               [1, "keep", other], [0, "undo"], [1, "undo"]])
    assert out[2]["text"] == other and out[2]["undoable"] == 2
    assert out[3]["result"] is None and out[3]["text"] == other and out[3]["undoable"] == 0
    assert out[4]["result"] is None


def test_the_default_working_clustering_is_listed_else_recommended_and_says_so():
    names = ["efficientnet-b7/pca250/k5", "osnet/pca150/k30", "vdc_type/pca20/k8"]
    context = site.labelling_context(names, [], {}, pd.DataFrame({
        "attribute": ["colour", "type"], "clustering": ["vdc_type/pca20/k8", "osnet/pca150/k30"]}),
        ["type", "colour"])
    assert (context["recommended"], context["recommendedFor"]) == ("osnet/pca150/k30", "type")
    default = run([], working={"data": context, "names": names})
    assert default["name"] == "osnet/pca150/k30"
    assert default["note"].startswith("a default (the index recommends it for type)")
    listed = run([], working={"data": {**context, "labelled": ["vdc_type/pca20/k8"]},
                              "names": names})
    assert listed["name"] == "vdc_type/pca20/k8" and "under 'labels:'" in listed["note"]
    bare = site.labelling_context(names, [], {})  # no recommendation measured: the first
    assert run([], working={"data": bare, "names": names})["name"] == names[0]
    chosen = run([], working={"data": context, "names": names, "chosen": names[2]})
    assert chosen == {"name": names[2], "note": ""}  # chosen: no longer called a default
