"""Writes the report: the collected data as sections, a summary per currency, one HTML file."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from cli.report.archivefigures import completeness_section, restatements_section
from cli.report.collect import Report
from cli.report.figure import Cell, Table, Total, total_of
from cli.report.page import page
from cli.report.salesfigures import earnings_section, sales_section
from cli.report.topfigures import top_section


def summary(report: Report) -> Table:
    """Per currency, the totals of the months shown (a part with no parseable value is counted, never added as 0)."""
    totals: dict[str, list[Total]] = defaultdict(lambda: [Total() for _ in range(4)])
    for row in report.sales:
        for total, value in zip(totals[row.currency], (row.transactions, row.units, row.sales, row.earnings), strict=True):
            total.add(value)
    rows: list[list[Cell]] = [
        [currency, total_of(t[0], whole=True), total_of(t[1], whole=True), total_of(t[2]), total_of(t[3])]
        for currency, t in sorted(totals.items())
    ]
    return Table(["Currency", "Transactions", "Units", "Sales", "Estimated earnings"], rows)


def html(report: Report, generated: str) -> str:
    """The report's page."""
    first, last = report.months[0], report.months[-1]
    meta = f"{report.label}: {first} to {last} ({len(report.months)} month{'s' if len(report.months) != 1 else ''}); generated {generated}."
    parts = [
        sales_section(report),
        earnings_section(report),
        top_section(report),
        restatements_section(report),
        completeness_section(report),
    ]
    return page("Appstore sales archive report", meta, summary(report), parts)


def write(report: Report, out: Path, generated: str) -> Path:
    """Write the page to `out` (its folder made if missing); return its absolute path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html(report, generated), encoding="utf-8")
    return out.resolve()
