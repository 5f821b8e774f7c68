"""The top apps, SKUs and marketplaces of the months shown, by units, with their sales per currency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from cli.report import charts
from cli.report.collect import Report
from cli.report.data import Sales
from cli.report.figure import Cell, Figure, Section, Table, amount, count

TOP = 10
KINDS: tuple[tuple[str, str, Callable[[Sales], str]], ...] = (
    ("apps", "App", lambda r: r.title),
    ("skus", "SKU", lambda r: r.sku or "(no SKU)"),
    ("marketplaces", "Marketplace", lambda r: r.marketplace or "(no marketplace)"),
)


def top_section(report: Report) -> Section:
    """One figure per kind: the TOP names with the most units."""
    first, last = report.months[0], report.months[-1]
    section = Section(
        f"Top apps, SKUs and marketplaces, {first} to {last}", f"The {TOP} with the most units; sales per currency in the table."
    )
    currencies = sorted({r.currency for r in report.skus})
    for kind, label, key in KINDS:
        units: dict[str, int] = defaultdict(int)
        transactions: dict[str, int] = defaultdict(int)
        sales: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for row in report.skus:
            name = key(row)
            units[name] += row.units
            transactions[name] += row.transactions
            sales[name, row.currency] += row.sales
        ranked = sorted(units, key=lambda n: (-units[n], n))[:TOP]
        headers = ["Rank", label, "Units", "Transactions", *(f"Sales ({c})" for c in currencies)]
        rows: list[list[Cell]] = [
            [str(i), name, count(units[name]), count(transactions[name]), *(amount(sales.get((name, c))) for c in currencies)]
            for i, name in enumerate(ranked, 1)
        ]
        values = [{"name": name, "value": units[name]} for name in ranked]
        spec = charts.top_bars(f"Top {label.lower()}s by units, {first} to {last}", values, "Units") if ranked else None
        section.figures.append(Figure(f"top-{kind}", spec, Table(headers, rows), "" if ranked else "No sales rows in these months."))
    return section
