"""What changed between two versions of a month: rows added, removed and changed, and the totals per currency."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

Row = dict[str, str]  # a curated sales row by column name (the history columns left out)
IDENTITY = ("transaction_id", "transaction_type")  # a row's identity when it has a transaction id; else the whole row is


@dataclass(frozen=True)
class Totals:
    """One currency's rows, units, sales and estimated earnings in a version (numbers that do not parse are left out)."""

    rows: int = 0
    units: int = 0
    sales: Decimal = Decimal(0)
    estimated_earnings: Decimal = Decimal(0)

    def minus(self, other: Totals) -> Totals:
        """The change from `other` to this."""
        earnings = self.estimated_earnings - other.estimated_earnings
        return Totals(self.rows - other.rows, self.units - other.units, self.sales - other.sales, earnings)


@dataclass(frozen=True)
class Change:
    """Between two consecutive versions: rows added, removed and changed, and per currency the totals' change."""

    added: int
    removed: int
    changed: int
    totals: dict[str, Totals]


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def totals(rows: list[Row]) -> dict[str, Totals]:
    """Per marketplace currency, the version's totals."""
    found: dict[str, Totals] = {}
    for row in rows:
        current = found.get(row.get("marketplace_currency", ""), Totals())
        units, sales, earnings = (_number(row.get(c, "")) for c in ("units", "sales_price", "estimated_earnings"))
        found[row.get("marketplace_currency", "")] = Totals(
            current.rows + 1,
            current.units + (int(units) if units is not None and units == units.to_integral_value() else 0),
            current.sales + (sales or 0),
            current.estimated_earnings + (earnings or 0),
        )
    return found


def keyed(rows: list[Row]) -> dict[tuple[str, ...], Row]:
    """Each row by its identity: transaction id and type (and which of its repeats it is), or all its values."""
    seen: Counter[tuple[str, ...]] = Counter()
    found: dict[tuple[str, ...], Row] = {}
    for row in rows:
        base = tuple(row.get(c, "") for c in IDENTITY) if row.get("transaction_id") else tuple(row[c] for c in sorted(row))
        key = (*base, str(seen[base]))
        seen[base] += 1
        found[key] = row
    return found


def compare(before: list[Row], after: list[Row]) -> Change:
    """What changed from one version to the next."""
    old, new = keyed(before), keyed(after)
    changed = sum(1 for key in old.keys() & new.keys() if old[key] != new[key])
    was, now = totals(before), totals(after)
    deltas = {c: now.get(c, Totals()).minus(was.get(c, Totals())) for c in sorted(was.keys() | now.keys())}
    return Change(len(new.keys() - old.keys()), len(old.keys() - new.keys()), changed, {c: d for c, d in deltas.items() if d != Totals()})
