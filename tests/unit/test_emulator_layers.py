"""The emulator's modules import each other without a circle, in one direction: state, then endpoints, then the server and app.

Every import counts: module level, under `if TYPE_CHECKING:`, and inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "infra.local.emulator"
PACKAGE_DIR = REPO / "infra" / "local" / "emulator"
# Bottom to top; a module imports only modules of the layers below its own.
LAYERS = (
    ("replies", "served", "signing"),  # values: HTTP replies, the log of served versions, URL signing
    ("faults",),  # the injectable faults and the replies they share
    ("control",),  # ControlState: tokens, faults, stats, download headers, rate window, clock
    ("months",),  # MonthState(ControlState): per-month settings and files, report answers
    ("state",),  # EmulatorState(MonthState): configuration and URLs; what every endpoint is given
    ("others",),  # the files of the other report types
    ("admin", "download", "oauth", "report"),  # the endpoints: each depends on the state, none on another
    ("httpd",),  # the HTTP server
    ("app",),  # AppstoreEmulator(EmulatorState): serves the state, routes requests to the endpoints
)


def modules() -> dict[str, Path]:
    """The package's modules by short name (`state` for infra.local.emulator.state), without __init__."""
    return {path.stem: path for path in sorted(PACKAGE_DIR.glob("*.py")) if path.stem != "__init__"}


def imported(source: str, names: set[str]) -> set[str]:
    """The package's modules (of `names`) a module's source imports anywhere: module level, `if TYPE_CHECKING:`, functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix(PACKAGE + ".").split(".")[0] for a in node.names if a.name.startswith(PACKAGE + ".")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: `from . import x`, `from .x import y`
                base = PACKAGE.rsplit(".", node.level - 1)[0] if node.level > 1 else PACKAGE
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module == PACKAGE:
                found |= {alias.name for alias in node.names}
            elif module.startswith(PACKAGE + "."):
                found.add(module.removeprefix(PACKAGE + ".").split(".")[0])
    return found & names


def graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    found = modules()
    return {name: imported(path.read_text(), set(found)) - {name} for name, path in found.items()}


def circle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle (its modules, the first repeated at the end), or None when the graph is acyclic."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(edges.get(node, ())):
            found = visit(target)
            if found is not None:
                return found
        path.pop()
        done.add(node)
        return None

    for start in sorted(edges):
        found = visit(start)
        if found is not None:
            return found
    return None


def test_the_graph_sees_every_kind_of_import() -> None:
    source = (
        "from __future__ import annotations\n"
        "import infra.local.emulator.a, infra.local.emulator.i.sub\n"
        "from infra.local.emulator.b import x\n"
        "from infra.local.emulator import c\n"
        "from . import d\n"
        "from .e import y\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from infra.local.emulator.f import z\n"
        "def g() -> None:\n"
        "    from infra.local.emulator.h import w\n"
        "from infra.local.salesdata import SalesData\n"
    )
    assert imported(source, set("abcdefghiz")) == set("abcdefhi")
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_emulator_modules_import_each_other_without_a_circle() -> None:
    edges = graph()
    assert len(edges) > 5  # the package was found
    assert circle(edges) is None, f"import circle in {PACKAGE}: {' -> '.join(circle(edges) or [])}"


def test_the_emulator_modules_import_only_from_the_layers_below() -> None:
    layer = {name: index for index, names in enumerate(LAYERS) for name in names}
    edges = graph()
    assert sorted(edges) == sorted(layer)  # a new module gets a layer
    upward = sorted(f"{source} -> {target}" for source, targets in edges.items() for target in targets if layer[target] >= layer[source])
    assert upward == []


def test_each_emulator_module_has_a_one_line_docstring_and_fits_on_a_screen() -> None:
    for name, path in modules().items():
        source = path.read_text()
        docstring = ast.get_docstring(ast.parse(source)) or ""
        assert docstring and "\n" not in docstring, name
        assert len(source.splitlines()) < 200, name
