"""The report's rows, typed: the named queries' results parsed (local values or Athena's strings) and cut to the months asked."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cli.query import Result


@dataclass(frozen=True)
class Sales:
    """One row of a sales query: a month, an app (and SKU and marketplace where grouped by them) and a currency."""

    month: str
    title: str
    currency: str
    transactions: int
    units: int | None  # None: a NULL sum, no parseable value in the month's rows (never read as 0)
    sales: Decimal | None
    earnings: Decimal | None
    sku: str = ""
    marketplace: str = ""


@dataclass(frozen=True)
class Approved:
    """What the earnings report says for a month and currency: earnings before tax over its marketplaces."""

    month: str
    currency: str
    marketplaces: int
    amount: Decimal | None


@dataclass(frozen=True)
class Fetch:
    """One fetch (version Amazon served) of a month, in one currency, from the restatements view."""

    month: str
    number: int
    fetched_at: str
    currency: str
    rows: int
    units: int | None  # None: a NULL sum (no parseable value), as in Sales
    sales: Decimal | None
    earnings: Decimal | None
    sales_change: Decimal | None  # None in a month's first fetch, or when this fetch's or the previous one's sales are


@dataclass(frozen=True)
class Period:
    """One row of the periods table: a report type's period and its status."""

    report: str
    period: str
    status: str
    rows: int | None
    error: str


def number(value: Any) -> Decimal | None:
    """A query value as a Decimal (Athena answers text, DuckDB numbers); None when empty."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def whole(value: Any) -> int:
    """A count as an int (0 when empty: the queries' counts are never NULL, coalesce'd where joined)."""
    found = number(value)
    return int(found) if found is not None else 0


def whole_or_none(value: Any) -> int | None:
    """A sum of units as an int; None when NULL (no parseable value), never 0."""
    found = number(value)
    return int(found) if found is not None else None


def records(result: Result) -> list[dict[str, Any]]:
    """A result's rows as dicts by column name."""
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def month_of(row: dict[str, Any]) -> str:
    """YYYY-MM of a row with year and month columns."""
    return f"{row['year']}-{row['month']}"


def sales(result: Result) -> list[Sales]:
    """The rows of a sales named query (per month, app and currency; SKU and marketplace when it has them).

    A month without sales rows has one row with its status and no transactions (the queries join the periods table):
    it is no app or currency, and the report's completeness section shows its status, so it is skipped here."""
    return [
        Sales(
            month=month_of(r),
            title=r["title"] or "(no title)",
            currency=r["marketplace_currency"] or "(none)",
            transactions=whole(r["transactions"]),
            units=whole_or_none(r["units"]),
            sales=number(r["sales"]),
            earnings=number(r["estimated_earnings"]),
            sku=r.get("vendor_sku") or "",
            marketplace=r.get("marketplace") or "",
        )
        for r in records(result)
        if whole(r["transactions"]) > 0
    ]


def approved(result: Result) -> list[Approved]:
    """The rows of the earnings-before-tax named query."""
    return [
        Approved(month_of(r), r["currency"] or "(none)", whole(r["marketplaces"]), number(r["earnings_before_tax"]))
        for r in records(result)
    ]


def fetches(result: Result) -> list[Fetch]:
    """The rows of the restatements view."""
    return [
        Fetch(
            month=month_of(r),
            number=whole(r["fetch_number"]),
            fetched_at=str(r["fetched_at"]),
            currency=r["currency"] or "(none)",
            rows=whole(r["rows"]),
            units=whole_or_none(r["units"]),
            sales=number(r["sales"]),
            earnings=number(r["estimated_earnings"]),
            sales_change=number(r["sales_change"]),
        )
        for r in records(result)
    ]


def periods(result: Result) -> list[Period]:
    """The rows of the completeness named query."""
    return [
        Period(
            r["report"], r["period"], r["status"], None if r["row_count"] in (None, "") else whole(r["row_count"]), r["last_error"] or ""
        )
        for r in records(result)
    ]


def months(first: str, last: str) -> list[str]:
    """Every month from first to last (YYYY-MM), both included."""
    year, month = map(int, first.split("-"))
    found: list[str] = []
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found
