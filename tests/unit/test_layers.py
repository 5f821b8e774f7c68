"""The function's package reads as the flow: stage folders that import only downwards, no circles, short modules."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "archiver" / "archiver"
# The stages in the order of the flow: a module imports its own stage or those before it, never a later one.
STAGES = ("core", "amazon", "formats", "storage", "answers", "run")
CLI = PACKAGE.parents[2] / "cli"
MAX_LINES = 200  # a module fits on one screen


@cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (archiver.<stage>.<module>)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path) -> set[str]:
    """The package's modules a file imports, at its top or inside a function (a lazy import counts)."""
    known, found = modules(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {name for name in found if name in known}


def stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_module_lives_in_a_stage_folder() -> None:
    assert {stage(name) for name in modules()} == {None, *STAGES}
    assert [name for name in modules() if name.count(".") == 1 and stage(name) not in STAGES] == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_a_module_imports_only_its_own_stage_or_earlier_ones(name: str) -> None:
    own = STAGES.index(stage(name) or STAGES[0])
    upward = [other for other in imports(modules()[name]) if STAGES.index(stage(other) or STAGES[0]) > own]
    assert upward == [], f"{name} imports a later stage"


def test_no_import_circle() -> None:
    graph = {name: imports(path) - {name} for name, path in modules().items()}
    graph = {name: {other for other in deps if modules()[other].name != "__init__.py"} for name, deps in graph.items()}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            pytest.fail("import circle: " + " -> ".join((*trail[trail.index(name) :], name)))
        if name not in done:
            for other in sorted(graph[name]):
                visit(other, (*trail, name))
            done.add(name)

    for name in sorted(graph):
        visit(name, ())


@pytest.mark.parametrize("name", sorted(modules()))
def test_a_module_fits_on_a_screen_and_says_what_it_is_for(name: str) -> None:
    text = modules()[name].read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.splitlines()[0].strip(), f"{name} has no one-line docstring"


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether two different names differ by one letter added, removed or changed."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_no_two_module_names_differ_by_one_letter() -> None:
    """Within the package, its stages and its own name, and against the command line's modules, which import them."""
    cli = {path.stem for path in CLI.rglob("*.py") if path.stem != "__init__"}
    names = sorted({path.stem for path in modules().values() if path.stem != "__init__"} | set(STAGES) | {PACKAGE.name} | cli)
    close = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :] if _one_edit_apart(a, b)]
    assert close == []


def test_the_checks_see_what_they_look_for() -> None:
    """The checks above can fail: the old names and an upward import are caught."""
    assert _one_edit_apart("report", "reports") and _one_edit_apart("convert", "converts")
    assert _one_edit_apart("archiver", "archive") and _one_edit_apart("curate", "curated")
    assert not _one_edit_apart("store", "state") and not _one_edit_apart("sales_csv", "sections")
    assert "archiver.run.plan" in imports(modules()["archiver.run.parts"])
    assert "archiver.formats.sales_csv" in imports(modules()["archiver.storage.prepare"])  # a lazy import counts
