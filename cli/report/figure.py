"""A figure of the report: a chart and the table of its exact numbers; cell formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cli.report.charts import Spec

Cell = str | tuple[str, str]  # text, or (text shown, exact value kept in the cell's data-value)


@dataclass(frozen=True)
class Table:
    """Column headers and rows of cells."""

    headers: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Figure:
    """A chart (None: nothing to draw, the note says why) and its table, under a stable id."""

    id: str
    spec: Spec | None
    table: Table
    note: str = ""


@dataclass
class Section:
    """A heading, a sentence on how to read it, and its figures."""

    title: str
    intro: str
    figures: list[Figure] = field(default_factory=list)


def amount(value: Decimal | None) -> Cell:
    """An amount with two decimals shown, the exact sum kept."""
    if value is None:
        return "–"
    return f"{value:,.2f}", format(value.normalize(), "f") if value else "0"


def count(value: int | None) -> Cell:
    """A whole number with thousands separators, the exact number kept."""
    return "–" if value is None else (f"{value:,}", str(value))


def date_of(month: str) -> str:
    """The first day of a month, for a temporal axis."""
    return f"{month}-01"


def slug(text: str) -> str:
    """A string safe in an HTML id."""
    return "".join(c if c.isalnum() else "-" for c in text)
