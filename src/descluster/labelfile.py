"""The label-file grammar: one strict line format, read and written here and, identically, by
the pages (``browser/labelfile.js``); the rules are data in ``grammar.json`` (``labelFile``).

A label file is what the template and the pages write, line for line::

    # comment lines (anywhere; blank lines too)
    clustering: osnet/pca150/k30
    clusters:
      - cluster: 0  # 12.5% of the images
        size: 1234
        colour: "red"          <- the attributes, the same in every cluster, in order
        note: ""
        mixed: false
        outlier: false
    images:                    <- or: images: []
      - path: "a/b.jpg"
        outlier: true          <- any of outlier, not_cluster, note, the attributes

Text is UTF-8; lines end in ``\\n`` or ``\\r\\n``; a leading byte-order mark is dropped.
Refused anywhere: other control characters (tab, lone ``\\r``, U+0085...), U+2028, U+2029,
bidirectional overrides and isolates, U+FEFF; lines over ``maxLineLength`` UTF-16 units,
files over ``maxBytes`` bytes. A value is ``"JSON text"`` (escapes ``\\" \\\\ \\/ \\uXXXX``;
no surrogate escapes), a plain word run (``red``, ``dark blue``: ASCII letters first, then
letters, digits, ``_ . / -`` and single spaces; not a YAML word such as ``no``), or nothing
(= unknown); ``#`` comments may follow after a space. Decoded values hold no refused
character; their outer spaces are dropped. Image paths are not trimmed: one with outer
spaces is refused. Attribute names follow :mod:`descluster.names`.

The parsed document (the same JSON from both parsers)::

    {"clustering": str, "attributes": [str],
     "clusters": [{"id", "size", "values": {a: str}, "note", "mixed", "outlier", "line", "lines"}],
     "images": [{"path", "outlier", "not_cluster", "values": {a: non-empty str}, "note",
                 "line", "lines"}]}

``line`` is the entry's first line, ``lines`` each key's line (1-based).
"""

import json
import re

from descluster.errors import InputError, shorten
from descluster.names import grammar, name_problem


class LabelFileError(InputError):
    """A label file outside the grammar: ``line`` (1-based, or None for the whole file)."""

    def __init__(self, source, line, message):
        self.line, self.reason = line, message
        where = f"{source}, line {line}" if line else str(source)
        super().__init__(f"{where}: {message}")


class _Rules:
    """The compiled ``labelFile`` rules."""

    def __init__(self, spec, name_spec):
        self.spec = spec
        for key in ("forbidden", "edgeSpace", "skip", "quoted", "plain", "after", "flag",
                    "clusterLine", "sizeLine", "clusteringId"):
            setattr(self, key, re.compile(spec[key]))
        self.yaml_words = name_spec["yamlWords"]


_RULES = None


def rules():
    global _RULES  # compiled once per process, from the package's grammar.json
    if _RULES is None:
        _RULES = _Rules(grammar()["labelFile"], grammar()["name"])
    return _RULES


def utf16_length(text):
    """Length of ``text`` in UTF-16 units (as JavaScript counts it)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _describe_char(char):
    code = f"U+{ord(char):04X}"
    if char == "\r":
        return f"{code} (a carriage return not followed by a line feed)"
    if char == "\t":
        return f"{code} (a tab; indent with spaces)"
    if char in "\u0085\u2028\u2029\u000b\u000c":
        return f"{code} (a line break other than \\n)"
    return code


class _Cursor:
    """The lines of a text, and the next one that is neither blank nor a comment."""

    def __init__(self, lines, source):
        self.lines, self.source, self.at = lines, source, 0
        self.skip = rules().skip

    def peek(self):
        while self.at < len(self.lines) and self.skip.match(self.lines[self.at]):
            self.at += 1
        return self.lines[self.at] if self.at < len(self.lines) else None

    @property
    def number(self):
        return self.at + 1

    def fail(self, message, line=None):
        raise LabelFileError(self.source, line or self.number, message)


def split_lines(text, source):
    """The lines of a label file's text, checked character by character.

    ``\\n`` and ``\\r\\n`` end lines; a leading U+FEFF is dropped. Raises
    :class:`LabelFileError` for a refused character or an overlong line.
    """
    r = rules()
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    limit = r.spec["maxLineLength"]
    for number, line in enumerate(lines, start=1):
        if line.endswith("\r"):
            line = lines[number - 1] = line[:-1]
        if len(line) > limit // 2 and utf16_length(line) > limit:
            raise LabelFileError(source, number, f"the line is longer than {limit} characters")
        bad = r.forbidden.search(line)
        if bad:
            raise LabelFileError(source, number, f"character {_describe_char(bad.group())} is "
                                 "not allowed in a label file")
    return lines


def _value(cursor, rest, key, kind):
    """A value after ``key:``; kind 'text' (trimmed, '' = unknown), 'path' or 'flag'."""
    r = rules()
    if r.after.match(rest):
        if kind == "flag":
            cursor.fail(f"'{key}' must be true or false")
        return ""
    text = rest.lstrip(" ")
    if kind == "flag":
        m = r.flag.match(text)
        if not m or not r.after.match(text[m.end():]):
            cursor.fail(f"'{key}' must be true or false, not {shorten(repr(text), 40)}")
        return m.group(1) == "true"
    m = r.quoted.match(text)
    if m:
        if not r.after.match(text[m.end():]):
            cursor.fail(f"nothing may follow the closing quote of '{key}' but a # comment")
        value = json.loads(m.group())
    elif text.startswith('"'):
        cursor.fail(f"the quoted value of '{key}' must end with its closing \" and use only "
                    "the escapes \\\" \\\\ \\/ \\uXXXX (no surrogates)")
    else:
        m = r.plain.match(text)
        if not m or not r.after.match(text[m.end():]):
            cursor.fail(f"{shorten(repr(f'{key}: {text}'), 60)} is not plain text; write the "
                        f"value in double quotes: {key}: \"...\"")
        value = m.group()
        if value.lower() in r.yaml_words:
            cursor.fail(f"'{key}: {value}' is read by YAML as true/false or null, not text; "
                        f"write it in quotes: {key}: \"{value}\"")
    bad = r.forbidden.search(value)
    if bad:
        cursor.fail(f"the value of '{key}' holds character {_describe_char(bad.group())}, "
                    "which a label file does not allow")
    if kind == "path":
        if value == "":
            cursor.fail("the image path is empty")
        if r.edgeSpace.search(value):
            cursor.fail(f"the image path {shorten(repr(value), 60)} starts or ends with a "
                        "space; paths are taken exactly as written")
        value = normalise_path(value)
        if value == "":
            cursor.fail("the image path is empty")
        return value
    return r.edgeSpace.sub("", value)


def normalise_path(path):
    """One spelling per file: forward slashes, no empty or '.' parts (a leading '/' kept).

    ``a\\b.jpg``, ``.\\a\\b.jpg`` and ``a//b.jpg`` all become ``a/b.jpg``; the pages
    normalise alike (``browser/labelfile.js``).
    """
    unified = path.replace("\\", "/")
    parts = [part for part in unified.split("/") if part not in ("", ".")]
    return ("/" if unified.startswith("/") else "") + "/".join(parts)


def _key_line(cursor, line):
    """(key, rest) of a line ``    key: value`` (4 spaces); fails on anything else."""
    body = line[4:]
    if body.startswith(" "):
        cursor.fail("a key is indented by 4 spaces, no more")
    colon = body.find(":")
    if colon < 0 or not (body[colon + 1:] == "" or body[colon + 1] == " "):
        cursor.fail("expected 'name: value'")
    return body[:colon], body[colon + 1:]


def _attribute_name(cursor, key):
    problem = name_problem(key)
    if problem:
        cursor.fail(f"attribute name {shorten(repr(key), 60)} {problem} (docs/safety.md: names)")


def _top_key(cursor, name, with_value=False):
    """The rest of a top-level line ``name:``; fails with what was expected."""
    line = cursor.peek()
    if line is None:
        cursor.fail(f"the file ends where '{name}:' was expected")
    if not line.startswith(f"{name}:"):
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):", line)
        found = f"unknown or misplaced key {shorten(repr(m.group(1)), 40)}" if m else \
            f"unexpected line {shorten(repr(line), 40)}"
        cursor.fail(f"{found}; expected '{name}:' (the keys are clustering, clusters, images, "
                    "in this order)")
    rest = line[len(name) + 1:]
    if rest and not rest.startswith(" "):
        cursor.fail(f"expected a space after '{name}:'")
    if not with_value and not rules().after.match(rest):
        cursor.fail(f"expected '{name}:' alone on its line")
    return rest


def _entry_keys(cursor, entry, on_key):
    """Read the ``    key: value`` lines of an entry: on_key(key, rest) for each."""
    while True:
        line = cursor.peek()
        if line is None or not line.startswith("    "):
            break
        key, rest = _key_line(cursor, line)
        if key in entry["lines"]:
            cursor.fail(f"{shorten(repr(key), 60)} appears twice in this entry (first on line "
                        f"{entry['lines'][key]})")
        on_key(key, rest)
        entry["lines"][key] = cursor.number
        cursor.at += 1
    if line is not None and not line.startswith("  - ") and line.startswith(" "):
        cursor.fail("unexpected indentation: entries start with '  - ', their keys with 4 spaces")


def _clusters(cursor, doc):
    r, seen = rules(), {}
    fixed = r.spec["clusterFlags"]
    while (line := cursor.peek()) is not None and line.startswith("  - "):
        m = r.clusterLine.match(line)
        if not m:
            cursor.fail("expected '  - cluster: <number>' (a whole number, no leading zeros)")
        cluster = {"id": int(m.group(1)), "size": 0, "values": {}, "note": "", "mixed": False,
                   "outlier": False, "line": cursor.number, "lines": {"cluster": cursor.number}}
        if cluster["id"] in seen:
            cursor.fail(f"cluster {cluster['id']} is listed twice (first on line "
                        f"{seen[cluster['id']]})")
        seen[cluster["id"]] = cursor.number
        cursor.at += 1
        line = cursor.peek()
        m = r.sizeLine.match(line) if line is not None else None
        if not m:
            cursor.fail(f"expected '    size: <number>' under cluster {cluster['id']}")
        cluster["size"] = int(m.group(1))
        cluster["lines"]["size"] = cursor.number
        cursor.at += 1
        order = []

        def on_key(key, rest, cluster=cluster, order=order):
            if key in ("mixed", "outlier"):
                cluster[key] = _value(cursor, rest, key, "flag")
            elif key == "note":
                cluster["note"] = _value(cursor, rest, key, "text")
            else:
                _attribute_name(cursor, key)
                cluster["values"][key] = _value(cursor, rest, key, "text")
            order.append(key)

        _entry_keys(cursor, cluster, on_key)
        attributes = order[:-len(fixed)] if len(order) >= len(fixed) else []
        if order[len(attributes):] != fixed or any(a in fixed for a in attributes):
            cursor.fail(f"cluster {cluster['id']} must have its attributes, then "
                        f"{', '.join(fixed)}, each on its own line (found: "
                        f"{shorten(', '.join(order) or 'none', 80)})", cluster["line"])
        if doc["attributes"] is None:
            doc["attributes"] = attributes
        elif attributes != doc["attributes"]:
            cursor.fail(f"cluster {cluster['id']} has the attributes "
                        f"{shorten(', '.join(attributes) or 'none', 60)}; the first cluster has "
                        f"{shorten(', '.join(doc['attributes']) or 'none', 60)}", cluster["line"])
        doc["clusters"].append(cluster)
    if not doc["clusters"]:
        cursor.fail("expected '  - cluster: <number>' entries under 'clusters:'")


def _images(cursor, doc):
    r, seen = rules(), {}
    flags = r.spec["imageFlags"]
    while (line := cursor.peek()) is not None and line.startswith("  - "):
        if not line.startswith("  - path:") or line[9:10] not in ("", " "):
            cursor.fail("expected '  - path: \"<image path>\"'")
        image = {"path": None, "outlier": False, "not_cluster": False, "values": {}, "note": "",
                 "line": cursor.number, "lines": {"path": cursor.number}}
        image["path"] = _value(cursor, line[len("  - path:"):], "path", "path")
        if image["path"] in seen:
            cursor.fail(f"image {shorten(repr(image['path']), 60)} is listed twice (first on line "
                        f"{seen[image['path']]})")
        seen[image["path"]] = cursor.number
        cursor.at += 1

        def on_key(key, rest, image=image):
            if key in flags:
                image[key] = _value(cursor, rest, key, "flag")
            elif key == "note":
                image["note"] = _value(cursor, rest, key, "text")
            elif key in doc["attributes"]:
                text = _value(cursor, rest, key, "text")
                if text:
                    image["values"][key] = text
            else:
                _attribute_name(cursor, key)
                cursor.fail(f"unknown key {shorten(repr(key), 60)} for an image (expected "
                            f"{', '.join(flags)}, note or an attribute of the clusters: "
                            f"{shorten(', '.join(doc['attributes']) or 'none', 60)})")

        _entry_keys(cursor, image, on_key)
        doc["images"].append(image)


def parse(text, source="label file", expected=None):
    """Parse a label file's text (see the module docstring).

    Parameters
    ----------
    text : str
    source : str
        Named in errors.
    expected : str, optional
        The clustering the file must be for.

    Returns
    -------
    dict
        The document (module docstring).

    Raises
    ------
    LabelFileError
        ``<source>, line N: <what the grammar expects>``.
    """
    r = rules()
    limit = r.spec["maxBytes"]
    if len(text) > limit or 3 * len(text) > limit and len(text.encode("utf-8", "surrogatepass")) > limit:
        raise LabelFileError(source, None, f"the file is larger than {limit // 2 ** 20} MiB, the "
                             "most a label file may hold")
    cursor = _Cursor(split_lines(text, source), source)
    rest = _top_key(cursor, "clustering", with_value=True)
    clustering = _value(cursor, rest, "clustering", "text")
    if not r.clusteringId.match(clustering):
        cursor.fail(f"'clustering' must name a clustering as model/variant/kK (e.g. "
                    f"osnet/pca150/k30), not {shorten(repr(clustering), 60)}")
    if expected is not None and clustering != expected:
        cursor.fail(f"the file is for clustering {shorten(repr(clustering), 60)}, not "
                    f"{expected!r}")
    doc = {"clustering": clustering, "attributes": None, "clusters": [], "images": []}
    cursor.at += 1
    _top_key(cursor, "clusters")
    cursor.at += 1
    _clusters(cursor, doc)
    rest = _top_key(cursor, "images", with_value=True)
    if re.match(r"^ \[\](?: +#.*| *)$", rest):
        cursor.at += 1
    elif r.after.match(rest):
        cursor.at += 1
        _images(cursor, doc)
    else:
        cursor.fail("expected 'images: []' or 'images:' followed by '  - path: ...' entries")
    if cursor.peek() is not None:
        cursor.fail("unexpected text after the images (only comments and blank lines may follow)")
    return doc


def _quote(text):
    return json.dumps(text, ensure_ascii=False)


def _checked_text(text, what):
    """A value as it will be written: outer spaces dropped; refused characters raise."""
    r = rules()
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, got {type(text).__name__}")
    bad = r.forbidden.search(text)
    if bad:
        raise ValueError(f"{what} holds character {_describe_char(bad.group())}, which a label "
                         "file does not allow")
    return r.edgeSpace.sub("", text)


def share_text(size, total):
    """'12.5%': ``size / total`` to a tenth of a percent, half up, in integers (the pages
    compute it alike)."""
    per_mille = (2000 * size + total) // (2 * total)
    return f"{per_mille // 10}.{per_mille % 10}%"


def header(clustering):
    """The comment lines every written label file starts with."""
    stem = clustering.replace("/", "_")
    return [line.replace("{clustering}", clustering).replace("{stem}", stem)
            for line in rules().spec["header"]]


def serialize(doc):
    """The text of a document (:func:`parse`'s form), exactly as the pages write it.

    Only what the document holds is written (no comment is carried over): the header,
    each cluster's share of the images, its size, attributes, note and flags; image
    entries with their set flags, non-empty values and note. Raises ValueError for a
    value no label file may hold.
    """
    r = rules()
    clustering = doc["clustering"]
    if not isinstance(clustering, str) or not r.clusteringId.match(clustering):
        raise ValueError(f"not a clustering id: {clustering!r}")
    for attribute in doc["attributes"]:
        if name_problem(attribute):
            raise ValueError(f"attribute name {attribute!r} {name_problem(attribute)}")
    plain = r.plain.fullmatch(clustering) and clustering.lower() not in r.yaml_words
    out = header(clustering) + [f"clustering: {clustering if plain else _quote(clustering)}",
                                "clusters:"]
    total = sum(int(c["size"]) for c in doc["clusters"])
    for c in doc["clusters"]:
        comment = r.spec["clusterComment"].replace("{share}", share_text(int(c["size"]), total)) \
            if total else ""
        out.append(f"  - cluster: {int(c['id'])}{comment}")
        out.append(f"    size: {int(c['size'])}")
        for a in doc["attributes"]:
            out.append(f"    {a}: {_quote(_checked_text(c['values'].get(a, ''), a))}")
        out.append(f"    note: {_quote(_checked_text(c.get('note', ''), 'note'))}")
        out += [f"    mixed: {'true' if c.get('mixed') else 'false'}",
                f"    outlier: {'true' if c.get('outlier') else 'false'}"]
    if not doc["images"]:
        out.append("images: []")
    else:
        out.append("images:")
    for image in doc["images"]:
        path = image["path"]
        if not isinstance(path, str) or not path or r.edgeSpace.search(path):
            raise ValueError(f"not an image path: {path!r}")
        out.append(f"  - path: {_quote(normalise_path(_checked_text(path, 'path')))}")
        out += [f"    {flag}: true" for flag in r.spec["imageFlags"] if image.get(flag)]
        for a in doc["attributes"]:
            text = _checked_text(image["values"].get(a, ""), a)
            if text:
                out.append(f"    {a}: {_quote(text)}")
        note = _checked_text(image.get("note", ""), "note")
        if note:
            out.append(f"    note: {_quote(note)}")
    return "\n".join(out) + "\n"


def read_text(path):
    """The text of a label file: at most ``maxBytes`` bytes of UTF-8.

    Raises
    ------
    InputError
        ``<path>: ...`` for a missing or too large file, ``<path>, line N: not UTF-8``.
    """
    limit = rules().spec["maxBytes"]
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a label file") from None
    if len(data) > limit:
        raise InputError(f"{path}: the file is larger than {limit // 2 ** 20} MiB, the most a "
                         "label file may hold")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not UTF-8 text; save the file as UTF-8") from None
