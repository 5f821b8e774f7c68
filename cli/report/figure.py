"""A figure of the report: a chart and the table of its exact numbers; cell formatting, and sums whose parts may be unknown."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cli.report.charts import Spec

UNKNOWN = "—"  # a value that is not known (a NULL sum): never shown as 0
NO_VALUE = "no parseable value in the archived rows"
PARTIAL = "*"  # after a total that adds only the parts with a value
LEGEND = (
    f"{UNKNOWN} : {NO_VALUE} (unknown, not zero; the cell's tooltip says why). "
    f"1,234.56{PARTIAL} : the total of the parts with a value only; some of its parts have none (the tooltip says how many). "
    "Charts leave such values out. 0 is a real zero."
)


@dataclass(frozen=True)
class Number:
    """A number cell: its text, the exact value kept in data-value (None: not known), a tooltip, its parts without a value."""

    shown: str
    exact: str | None
    title: str = ""
    unknown_parts: int = 0


Cell = str | Number


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


@dataclass
class Total:
    """A sum of query values, some of which may be NULL: the known parts added, the unknown ones counted (never as 0)."""

    known: Decimal = Decimal(0)
    parts: int = 0
    unknown: int = 0

    def add(self, value: Decimal | int | None) -> Total:
        """Add a part (None: a part without a value); the total itself."""
        self.parts += 1
        if value is None:
            self.unknown += 1
        else:
            self.known += value
        return self

    @property
    def value(self) -> Decimal | None:
        """The sum when every part is known (what a chart may draw), else None."""
        return self.known if self.parts and not self.unknown else None


def unknown(why: str = NO_VALUE) -> Number:
    """A value that is not known: a dash, and why in its tooltip."""
    return Number(UNKNOWN, None, why)


def amount(value: Decimal | None, why: str = NO_VALUE) -> Number:
    """An amount with two decimals shown, the exact sum kept; None (a NULL sum) a dash saying why."""
    if value is None:
        return unknown(why)
    return Number(f"{value:,.2f}", format(value.normalize(), "f") if value else "0")


def count(value: int | None, why: str = NO_VALUE) -> Number:
    """A whole number with thousands separators, the exact number kept; None a dash saying why."""
    return unknown(why) if value is None else Number(f"{value:,}", str(value))


def total_of(total: Total, whole: bool = False, empty: str = NO_VALUE) -> Number:
    """A total: as a number when every part is known; a dash when none is (`empty` says why when it has no part at all);
    else the known parts' sum marked PARTIAL, how many parts lack a value in its tooltip and data-unknown-parts."""
    if total.unknown == total.parts:
        return unknown(NO_VALUE if total.parts else empty)
    shown = count(int(total.known)) if whole else amount(total.known)
    if not total.unknown:
        return shown
    verb = "has" if total.unknown == 1 else "have"
    title = f"the total of the parts with a value only: {total.unknown} of its {total.parts} parts {verb} {NO_VALUE}"
    return Number(shown.shown + PARTIAL, shown.exact, title, total.unknown)


def left_out(n: int) -> str:
    """A figure's note when its chart leaves values out."""
    if not n:
        return ""
    values = f"{n} value{'s' if n != 1 else ''}"
    return f"{values} left out of the chart: {NO_VALUE}, in whole or in part ({UNKNOWN} or {PARTIAL} in the table)."


def notes(*parts: str) -> str:
    """A figure's note from its non-empty parts."""
    return " ".join(p for p in parts if p)


def date_of(month: str) -> str:
    """The first day of a month, for a temporal axis."""
    return f"{month}-01"


def slug(text: str) -> str:
    """A string safe in an HTML id."""
    return "".join(c if c.isalnum() else "-" for c in text)
