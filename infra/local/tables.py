"""Query results as plain-text tables: numbers right-aligned, wide characters counted as two columns."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def _cell(value: Any) -> str:
    """A value as shown in a table: NULL, amounts without trailing zeros past the cents."""
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        text = f"{value:f}"
        if "." in text:
            whole, fraction = text.split(".")
            fraction = fraction.rstrip("0").ljust(2, "0")
            text = f"{whole}.{fraction}"
        return text
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def _width(text: str) -> int:
    """Terminal columns a text takes (wide East Asian characters and emoji take two)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """Cut a text to at most `width` columns, marking the cut."""
    if _width(text) <= width:
        return text
    while _width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_rows: int | None = None, max_width: int = 40) -> str:
    """A plain-text table; numbers right-aligned, long values cut, rows not shown counted."""
    if not columns:
        return "(no result set)"
    shown = list(rows if max_rows is None else rows[:max_rows])
    cells = [[_fit(_cell(v), max_width) for v in row] for row in shown]
    numeric = [bool(shown) and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in shown) for i in range(len(columns))]
    widths = [max([_width(name), *(_width(row[i]) for row in cells)]) for i, name in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        gaps = [" " * (w - _width(v)) for v, w in zip(values, widths, strict=True)]
        return "  ".join(g + v if num else v + g for v, g, num in zip(values, gaps, numeric, strict=True)).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths), *(line(row) for row in cells)]
    hidden = len(rows) - len(shown)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{f', {hidden} not shown' if hidden else ''})")
    return "\n".join(out)
