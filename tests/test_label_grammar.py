"""The label-file grammar, differentially: the workflow's reader (descluster.labelfile) and the
pages' parser (browser/labelfile.js, run in node) on thousands of generated files must accept
the same files with the same data and the same written-back text, or both refuse at the same
line. What both accept is YAML that any YAML reader reads as the same data."""

import json
import random
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest
import yaml

from descluster import labelfile
from descluster.errors import InputError

NODE = shutil.which("node") or "/usr/bin/node"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built: 10x faster
HARNESS = Path(__file__).with_name("label_grammar.js")
pytestmark = pytest.mark.skipif(not Path(NODE).exists(), reason="node not found (apt-get install nodejs)")

ODD = ["\t", "\r", "\r\n", "\n", "\x85", "\u2028", "\u2029", "\u202e", "\u2066", "\ufeff", "\x00",
       "\x1b", "\x7f", "\x9f", "#", " #", ":", ": ", '"', "'", "\\", "\\u0000", "\\n", "\\ud800",
       " ", "  ", "-", "- ", "[", "]", "{", "}", "&a ", "*a", "!", "|", ">", "%", "@", "`", "~",
       "é", "ü", "😀", "\u00a0", "\u3000", "\u200b", "yes", "no", "null", "0", "010", "1.5",
       "\\\"", "\\/", "\\u00e9", "\\ud83d\\ude00", "__proto__", "constructor", ".", "/", "..",
       "\ufffd", "\U0001F600" * 3]
NAMES = ["type", "colour", "view", "constructor", "__proto__", "toString", "hasOwnProperty",
         "valueOf", "yes", "No", "on", "null", "a b", "a:b", "#c", "1a", "ünï", "_x", "paths",
         "colour_confidence", "type_source", "path_original", "note", "size", "x" * 65, "x" * 64,
         "row", "share", "a-b", "a.b", "Colour"]
# values a label file takes (most drawn), then values it refuses
GOOD = ['""', '"red"', "red", "dark blue", '"no"', '"a # b"', '"\\u00e9t\\u00e9"', '"é"', "",
        '"<img src=x onerror=alert(1)>"', '" red "', '"😀"', '"a"  # ok', "red  # ok", "red   ",
        "a/b.c-d_e", '"\\/"', '"\\\\ \\""', '"\\u3000x\\u00a0"', '"  "']
ODD_VALUES = ["'red'", "no", "No", "yes", "on", "7", "1:30", ".nan", "~", "null", "a # b", "a#b",
              '"\\t"', '"\\u2028"', '"\\ud83d\\ude00"', "[red]", "{a: b}", "&a red", "*a", "|",
              ">", "- x", '"unclosed', '"a" b', '"\\x41"', "'it''s'", "grün", '"\\u202e"']
GOOD_PATHS = ['"a/b.jpg"', "a/b.jpg", '"a\\\\b.jpg"', '"./a/b.jpg"', '"/etc/passwd"', '"../x.jpg"',
              '"a//b.jpg"', '"0001.jpg"', '"a b/c d.jpg"', '"😀/ü.png"', '"c/d.png"', '"e.png"']
ODD_PATHS = ['" a.jpg"', '"a.jpg "', '"\\u00a0a.jpg"', '""', '"."', "0001.jpg", '"x\\ty.jpg"']


def value(rng, good=GOOD, odd=ODD_VALUES):
    return rng.choice(odd) if rng.random() < 0.03 else rng.choice(good)


def template_text(rng, attributes, n_clusters):
    lines = ["# Labels for clustering osnet/pca12/k6.", "clustering: osnet/pca12/k6", "clusters:"]
    for cluster in range(n_clusters):
        lines.append(f"  - cluster: {cluster}  # {rng.randint(0, 100)}.0% of the images")
        lines.append(f"    size: {rng.randint(0, 500)}")
        lines += [f"    {a}: {value(rng)}" for a in attributes]
        lines += [f"    note: {value(rng)}", f"    mixed: {rng.choice(['false', 'true'])}",
                  f"    outlier: {rng.choice(['false', 'true'])}"]
    if rng.random() < 0.3:
        lines.append("images: []")
    else:
        lines.append("images:")
        for _ in range(rng.randint(0, 4)):
            lines.append(f"  - path: {value(rng, GOOD_PATHS, ODD_PATHS)}")
            for key in rng.sample(["outlier", "not_cluster", "note", *attributes],
                                  rng.randint(0, 3)):
                given = rng.choice(["true", "false"]) if key in ("outlier", "not_cluster") \
                    else value(rng)
                lines.append(f"    {key}: {given}")
    return lines


def mutate(rng, lines):
    """One to three random edits of a valid-looking file."""
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(lines) + 1)
        kind = rng.random()
        if kind < 0.35 and lines:  # an odd character inside a line
            line = lines[min(at, len(lines) - 1)]
            cut = rng.randint(0, len(line))
            lines[min(at, len(lines) - 1)] = line[:cut] + rng.choice(ODD) + line[cut:]
        elif kind < 0.5:  # comment and blank lines, at any indentation
            lines.insert(at, rng.choice(["# note", "", "   ", "    # x", "  #", "#" + "é" * 3, "\t#"]))
        elif kind < 0.6 and lines:  # indentation changes
            i = min(at, len(lines) - 1)
            lines[i] = rng.choice([" ", "  ", "   "]) + lines[i] if rng.random() < 0.6 \
                else lines[i].lstrip(" ")
        elif kind < 0.7 and lines:  # a line dropped or repeated
            i = min(at, len(lines) - 1)
            if rng.random() < 0.5:
                del lines[i]
            else:
                lines.insert(i, lines[i])
        elif kind < 0.8:  # YAML forms the grammar does not take
            lines.insert(at, rng.choice(["colours: []", "clusters: [{cluster: 0}]", "- cluster: 0",
                                         "    colour: [", "? x", "--- ", "...", "&a x: 1",
                                         "clustering: osnet/pca12/k6", "images: []"]))
        elif kind < 0.85 and lines:  # no space after a colon (YAML then reads a scalar)
            i = min(at, len(lines) - 1)
            lines[i] = lines[i].replace(": ", ":", 1)
        elif lines:  # an odd key
            i = min(at, len(lines) - 1)
            lines.insert(i + 1, f"    {rng.choice(NAMES)}: {rng.choice(ODD_VALUES + GOOD)}")
    return lines


def join(rng, lines):
    ending = rng.choice(["\n"] * 12 + ["\r\n"] * 4 + ["\r", "\u2028"])
    text = ending.join(lines) + rng.choice([ending, ending, ""])
    return ("\ufeff" if rng.random() < 0.05 else "") + text


def generated_texts(seed=21, n=2500):
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    texts = []
    for i in range(n):
        attributes = rng.sample(["type", "colour", "view", "constructor", "a b", "yes", "__proto__"],
                                rng.randint(0, 3)) if i % 4 == 0 else ["type", "colour"]
        lines = template_text(rng, attributes, rng.randint(1, 3))
        texts.append(join(rng, lines if i % 3 == 0 else mutate(rng, lines)))
    return texts


def special_texts():
    base = labelfile.serialize({
        "clustering": "osnet/pca12/k6", "attributes": ["type", "colour"],
        "clusters": [{"id": 0, "size": 3, "values": {"type": "car", "colour": ""}, "note": "",
                      "mixed": False, "outlier": False}],
        "images": [{"path": "a/b.jpg", "outlier": True, "not_cluster": False, "values": {},
                    "note": "dark"}]})
    texts = [base, base.replace("\n", "\r\n"), base[:-1], "\ufeff" + base, "", "\n", "#\n",
             "[" * 100_000, "clustering: [" * 20_000, "a:\n" + "  " * 5000 + "b: c\n",
             base.replace('"car"', '"' + "x" * 70_000 + '"'),
             base.replace('"car"', '"' + "😀" * 32_768 + '"'),  # 65,536 UTF-16 units in the value
             base.replace('"car"', '"' + "😀" * 32_766 + '"'),
             base.replace("images:", "# " + "y" * 66_000 + "\nimages:"),
             # YAML reads these lines as one scalar, not as a key and value
             base.replace("clustering: ", "clustering:"), base.replace('- path: "a', '- path:"a'),
             base.replace('- path: "a/b.jpg"', "- path:a/b.jpg")]
    for odd in ("\x85", "\u2028", "\u2029", "\r", "\u202e", "\x00"):
        texts.append(base.replace('"dark"', f'"da{odd}rk"'))
        texts.append(base.replace("# Labels", f"# La{odd}bels"))
    for name in ("constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "yes"):
        texts.append(base.replace("colour", name))
    # a large valid file: 5,000 clusters and 5,000 image entries
    big = {"clustering": "osnet/pca12/k6", "attributes": ["type"],
           "clusters": [{"id": i, "size": i, "values": {"type": f"t{i % 7}"}, "note": "",
                         "mixed": False, "outlier": i % 3 == 0} for i in range(5000)],
           "images": [{"path": f"d/{i}.jpg", "outlier": i % 2 == 0, "not_cluster": i % 2 == 1,
                       "values": {}, "note": ""} for i in range(5000)]}
    texts.append(labelfile.serialize(big))
    return texts


def python_result(text):
    try:
        doc = labelfile.parse(text, "f")
    except labelfile.LabelFileError as exc:
        return {"line": exc.line, "error": str(exc)}
    return {"doc": json.loads(json.dumps(doc)), "text": labelfile.serialize(doc)}


def js_results(texts):
    grammar = resources.files("descluster") / "grammar.json"
    code = resources.files("descluster") / "browser" / "labelfile.js"
    with resources.as_file(code) as code_path, resources.as_file(grammar) as grammar_path:
        done = subprocess.run([NODE, str(HARNESS), str(code_path), str(grammar_path)],
                              input=json.dumps(texts), capture_output=True, text=True,
                              timeout=120, check=True)
    return json.loads(done.stdout)


def assert_same(texts):
    js = js_results(texts)
    assert len(js) == len(texts)
    accepted = 0
    for text, theirs in zip(texts, js):
        ours = python_result(text)
        shown = repr(text[:300])
        assert "crash" not in theirs, (shown, theirs)
        if "doc" in ours:
            assert "doc" in theirs, (shown, ours["doc"], theirs)
            assert theirs["doc"] == ours["doc"], shown
            assert theirs.get("text") == ours["text"], shown
            accepted += 1
        else:
            assert "error" in theirs, (shown, ours, theirs.get("doc"))
            assert theirs["line"] == ours["line"], (shown, ours["error"], theirs["error"])
    return accepted


def yaml_view(doc):
    """A parsed document as a YAML reader sees the same file, values trimmed as the grammar
    trims them."""
    def text(value):
        return labelfile.rules().edgeSpace.sub("", "" if value is None else value)

    clusters = [{"id": c["cluster"], "size": c["size"],
                 "values": {a: text(c[a]) for a in c if a not in ("cluster", "size", "note",
                                                                    "mixed", "outlier")},
                 "note": text(c["note"]), "mixed": c["mixed"], "outlier": c["outlier"]}
                for c in doc["clusters"]]
    images = [{"path": labelfile.normalise_path(i["path"]), "outlier": i.get("outlier", False),
               "not_cluster": i.get("not_cluster", False), "note": text(i.get("note")),
               "values": {a: text(v) for a, v in i.items()
                          if a not in ("path", "outlier", "not_cluster", "note") and text(v)}}
              for i in doc["images"] or []]
    return {"clustering": doc["clustering"], "clusters": clusters, "images": images}


def strip_lines(doc):
    return {"clustering": doc["clustering"],
            "clusters": [{k: v for k, v in c.items() if k not in ("line", "lines")}
                         for c in doc["clusters"]],
            "images": [{k: v for k, v in i.items() if k not in ("line", "lines")}
                       for i in doc["images"]]}


def test_both_parsers_agree_on_generated_files():
    texts = generated_texts()
    accepted = assert_same(texts)
    # the generator makes both kinds in numbers
    assert 300 < accepted < len(texts) - 300, accepted


def test_both_parsers_agree_on_odd_large_and_nested_files():
    texts = special_texts()
    assert_same(texts)
    results = [python_result(t) for t in texts]
    assert "doc" in results[0] and "doc" in results[1] and "doc" in results[2]
    assert results[0]["doc"] == results[1]["doc"] == results[3]["doc"]  # \r\n, BOM: the same
    assert results[-1]["doc"]["clusters"][4999]["values"] == {"type": "t1"}


def test_what_both_accept_is_yaml_with_the_same_meaning():
    for text in generated_texts(seed=7, n=1500) + special_texts():
        result = python_result(text)
        if "doc" not in result:
            continue
        read = yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader
        assert yaml_view(read) == strip_lines(result["doc"]), repr(text[:300])
        # and writing it back changes nothing the file says
        again = labelfile.parse(result["text"], "again")
        assert strip_lines(json.loads(json.dumps(again))) == strip_lines(result["doc"])


@pytest.mark.parametrize("odd, where", [("\x85", "U+0085"), ("\u2028", "U+2028"),
                                        ("\u2029", "U+2029"), ("\r", "U+000D")])
def test_line_breaks_other_than_newline_are_refused_by_both(odd, where):
    text = ('clustering: osnet/pca12/k6\nclusters:\n  - cluster: 0\n    size: 1\n'
            f'    colour: "red"{odd}    type: "car"\n    note: ""\n    mixed: false\n'
            '    outlier: false\nimages: []\n')
    with pytest.raises(InputError, match=rf"^f, line 5: character {re.escape(where)} .*is not allowed"):
        labelfile.parse(text, "f")
    assert js_results([text])[0]["line"] == 5


def test_stored_text_with_a_lone_surrogate_is_refused_by_the_page():
    # text from browser storage can hold half a character; a file read as UTF-8 cannot
    text = labelfile.serialize({"clustering": "osnet/pca12/k6", "attributes": ["type"],
                                "clusters": [{"id": 0, "size": 1, "values": {"type": "car"},
                                              "note": "", "mixed": False, "outlier": False}],
                                "images": []}).replace("car", "c\ud800r")
    line = text.splitlines().index("    type: \"c\ud800r\"") + 1
    assert js_results([text])[0]["line"] == line
