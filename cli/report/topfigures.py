"""The top apps, SKUs and marketplaces of the months shown, by units, with their sales per currency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from cli.report import charts
from cli.report.collect import Report
from cli.report.data import Sales
from cli.report.figure import Cell, Figure, Section, Table, Total, count, left_out, notes, total_of

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
        units: dict[str, Total] = defaultdict(Total)
        transactions: dict[str, int] = defaultdict(int)
        sales: dict[tuple[str, str], Total] = defaultdict(Total)
        for row in report.skus:
            name = key(row)
            units[name].add(row.units)
            transactions[name] += row.transactions
            sales[name, row.currency].add(row.sales)
        ranked = sorted(units, key=lambda n: (-units[n].known, n))[:TOP]  # by the known units (a total marked when partial)
        headers = ["Rank", label, "Units", "Transactions", *(f"Sales ({c})" for c in currencies)]
        rows: list[list[Cell]] = [
            [
                str(i),
                name,
                total_of(units[name], whole=True),
                count(transactions[name]),
                *(total_of(sales.get((name, c), Total()), empty=f"no sales row in {c}") for c in currencies),
            ]
            for i, name in enumerate(ranked, 1)
        ]
        values = [{"name": name, "value": int(v)} for name in ranked if (v := units[name].value) is not None]
        spec = charts.top_bars(f"Top {label.lower()}s by units, {first} to {last}", values, "Units") if values else None
        note = notes(left_out(len(ranked) - len(values)), "" if ranked else "No sales rows in these months.")
        section.figures.append(Figure(f"top-{kind}", spec, Table(headers, rows), note))
    return section
