"""The README and docs/: every relative link and anchor resolves, the README stays short, every document is linked.

External http(s) links are not fetched. Anchors are compared with the slugs GitHub gives headings.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from infra.template.load import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
README_MAX_LINES = 260

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines outside fenced code blocks."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower-cased, only letters, marks, digits, `_`, `-` and spaces kept, spaces as hyphens."""
    text = CODE_SPAN.sub(lambda match: match.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text stays, its target goes
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("*", "").lower()
    kept = "".join(char for char in text if char in " -" or unicodedata.category(char)[0] in "LMN" or unicodedata.category(char) == "Pc")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, repeated headings numbered -1, -2 as GitHub does."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def paragraphs(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each run of non-blank lines outside fenced code blocks."""
    blocks: list[tuple[int, str]] = []
    previous = -1
    for number, line in prose_lines(text):
        if line.strip() and number == previous + 1 and blocks:
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + "\n" + line)
        elif line.strip():
            blocks.append((number, line))
        previous = number if line.strip() else -1
    return blocks


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link and image outside code; a link may span lines."""
    found: list[tuple[int, str]] = []
    for first, block in paragraphs(path.read_text(encoding="utf-8")):
        bare = CODE_SPAN.sub(lambda match: match.group(1) + re.sub(r"[^\n]", "x", match.group(2)) + match.group(1), block)
        for match in LINK.finditer(bare):
            found.append((first + block.count("\n", 0, match.start()), block[match.start(1) : match.end(1)]))
    return found


def problems(path: Path, root: Path = REPO_ROOT) -> list[str]:
    """What is wrong with the links of one document: missing targets, unknown anchors, absolute paths."""
    found: list[str] = []
    for number, target in links(path):
        where = f"{path.relative_to(root)}:{number}: {target}"
        if SCHEME.match(target):
            if not target.startswith(("http://", "https://")):
                found.append(f"{where}: only http(s) links may leave the repository")
            continue
        file_part, _, anchor = target.partition("#")
        if file_part.startswith("/"):
            found.append(f"{where}: absolute path")
            continue
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_relative_to(root.resolve()):
            found.append(f"{where}: outside the repository")
        elif not resolved.exists():
            found.append(f"{where}: no such file or directory")
        elif anchor:
            if resolved.suffix != ".md" or not resolved.is_file():
                found.append(f"{where}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(resolved):
                found.append(f"{where}: no heading with this anchor in {resolved.relative_to(root.resolve())}")
    return found


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    assert links(document), "a document without links is not part of the map"
    assert problems(document) == []


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_every_document_is_linked_from_the_readme() -> None:
    assert DOCS
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for _, target in links(README)
        if not SCHEME.match(target) and target.partition("#")[0]
    }
    assert [doc.name for doc in DOCS if doc.resolve() not in linked] == []


def test_the_checker_finds_broken_links_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## The report (`appstore-archive report`)\n\n## Step 2: go\n\n## Step 2: go\n")
    (tmp_path / "doc.md").write_text(
        "# Doc\n\n"
        "[ok](other.md#the-report-appstore-archive-report) [ok](other.md#step-2-go-1) [ok](#doc)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [bad own](#nowhere) [abs](/etc/passwd)\n"
        "[web](https://example.com/x) `[in code](missing-too.md)` `a code span\n[across lines](missing-four.md)`\n"
        "[a link across\nlines](missing-five.md)\n"
        "```\n[fenced](missing-three.md)\n```\n"
    )
    found = problems(tmp_path / "doc.md", root=tmp_path)
    assert [line.split(": ", 1)[1] for line in found] == [
        "missing.md: no such file or directory",
        "other.md#nowhere: no heading with this anchor in other.md",
        "#nowhere: no heading with this anchor in doc.md",
        "/etc/passwd: absolute path",
        "missing-five.md: no such file or directory",
    ]
