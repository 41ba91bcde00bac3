"""The documentation: every relative link and #anchor resolves, the README stays short and
names the commands CI runs, every page under docs/ is reachable from it, and every rule
owns documented outputs."""

import re

import pytest

from conftest import REPO_ROOT

DOCS = sorted([REPO_ROOT / "README.md", REPO_ROOT / "profiles" / "README.md",
               REPO_ROOT / "config" / "README.md", *(REPO_ROOT / "docs").glob("*.md")])
README_MAX_LINES = 200
QUICK_START = ('pip install -e ".[test]" && snakemake --cores 2', "python -m pytest")

_FENCE = re.compile(r"^(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CODE_SPAN = re.compile(r"(`+).+?\1")
_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text):
    """The lines of a markdown text outside fenced code blocks, HTML comments removed."""
    lines, fenced = [], False
    for line in _COMMENT.sub("", text).splitlines():
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading):
    """GitHub's anchor of a heading: markdown removed, lower case, punctuation dropped,
    spaces turned into hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"[`*]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every #anchor of a markdown file, repeated headings numbered as GitHub does."""
    seen, result = {}, set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path):
    """(line number, target) of every markdown link in a file, outside code."""
    found = []
    text = path.read_text(encoding="utf-8")
    fenced = False
    for number, line in enumerate(_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"),
                                               text).splitlines(), start=1):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if fenced:
            continue
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            found.append((number, match.group(1)))
    return found


def broken_links(path, root=REPO_ROOT):
    """One line per link of ``path`` whose file or #anchor does not exist (paths in the
    lines relative to ``root``)."""
    problems = []
    for number, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        where = f"{path.relative_to(root)}:{number}: {target}"
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            problems.append(f"{where}: no file {file_part}")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{where}: no heading #{anchor} in {resolved.relative_to(root)}")
    return problems


def test_slug_follows_github():
    assert slug("Safety and failure") == "safety-and-failure"
    assert slug("The study today, with maps (2026-11-29)") == "the-study-today-with-maps-2026-11-29"
    assert slug("Targets of the \"Seed scale\" issue") == "targets-of-the-seed-scale-issue"
    assert slug("Reading the `k-scan` plots") == "reading-the-k-scan-plots"


def test_links_are_found_outside_code_only(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Top\n[a](other.md#x) `[b](not-a-link.md)`\n```\n[c](code.md)\n```\n"
                    "<!-- [d](comment.md) -->\n[e](#top)\n", encoding="utf-8")
    assert links(page) == [(2, "other.md#x"), (7, "#top")]
    assert anchors(page) == {"top"}


def test_broken_files_and_anchors_are_named(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "b.md").write_text("# Big heading\n## Twice\n## Twice\n", encoding="utf-8")
    page = tmp_path / "a.md"
    page.write_text("[ok](docs/b.md#big-heading) [ok](docs/b.md#twice-1) [ok](https://x.org/#y)\n"
                    "[bad](docs/b.md#small-heading) [bad](docs/c.md) [bad](#nowhere)\n",
                    encoding="utf-8")
    assert broken_links(page, tmp_path) == [
        "a.md:2: docs/b.md#small-heading: no heading #small-heading in docs/b.md",
        "a.md:2: docs/c.md: no file docs/c.md",
        "a.md:2: #nowhere: no heading #nowhere in a.md"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def test_readme_is_short_and_names_the_quick_start():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    for command in QUICK_START:
        assert f"\n{command}\n" in text  # a line of its own, as CI runs it


def test_every_docs_page_is_linked_from_the_readme():
    readme = REPO_ROOT / "README.md"
    linked = {(readme.parent / target.partition("#")[0]).resolve() for _, target in links(readme)}
    pages = {REPO_ROOT / "profiles" / "README.md", REPO_ROOT / "config" / "README.md",
             *(REPO_ROOT / "docs").glob("*.md")}
    assert sorted(str(p.relative_to(REPO_ROOT)) for p in pages if p.resolve() not in linked) == []


def test_every_rule_owns_documented_outputs():
    rules = {name for path in (REPO_ROOT / "workflow" / "rules").glob("*.smk")
             for name in re.findall(r"^rule (\w+):", path.read_text(encoding="utf-8"), re.M)}
    table = (REPO_ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    owners = {cell.strip() for row in re.findall(r"^\| `results/.*$", table, re.M)
              for cell in row.split("|")[2].split(",")}
    assert sorted(rules - owners) == []
    assert sorted(owners - rules - {"every rule"}) == []
