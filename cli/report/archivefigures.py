"""The archive's own figures: how restated months moved between fetches, and each report type's completeness calendar."""

from __future__ import annotations

import calendar as months_of_year
from collections import Counter

from cli.report import charts
from cli.report.collect import RESTATED_MONTHS, Report
from cli.report.figure import NO_VALUE, Cell, Figure, Section, Table, amount, count, left_out, slug

MONTH_NAMES = list(months_of_year.month_abbr)[1:]
FIRST_FETCH = "the first version archived: no earlier fetch to compare with"
NO_CHANGE = f"{NO_VALUE} of this fetch or the one before"
NO_ROWS = "no row count: the period is not archived"


def restatements_section(report: Report) -> Section:
    """Per currency, each of the last months' sales per fetch; the table holds every total and change."""
    section = Section(
        "Restatements",
        f"Amazon restates a month's figures after it ends. The last {RESTATED_MONTHS} months with a history: "
        "their totals in every version Amazon served (fetch 1 is the first version archived).",
    )
    if not report.fetches:
        section.intro += " No month of these has a history yet."
        return section
    for currency in sorted({f.currency for f in report.fetches}):
        mine = [f for f in report.fetches if f.currency == currency]
        values = [{"fetch": f.number, "series": f.month, "value": float(f.sales)} for f in mine if f.sales is not None]
        headers = [
            "Month",
            "Fetch",
            "Fetched at (UTC)",
            "Rows",
            "Units",
            f"Sales ({currency})",
            f"Estimated earnings ({currency})",
            "Sales change",
        ]
        rows: list[list[Cell]] = [
            [
                f.month,
                str(f.number),
                f.fetched_at,
                count(f.rows),
                count(f.units),
                amount(f.sales),
                amount(f.earnings),
                amount(f.sales_change, FIRST_FETCH if f.number == 1 else NO_CHANGE),
            ]
            for f in mine
        ]
        spec = charts.fetch_lines(f"Sales in {currency} per fetch of each month", values, f"Sales ({currency})")
        section.figures.append(Figure(f"restatements-{slug(currency)}", spec, Table(headers, rows), left_out(len(mine) - len(values))))
    return section


def completeness_section(report: Report) -> Section:
    """A calendar per report type: a missing month is never mistaken for a month without sales."""
    section = Section(
        "Completeness",
        "Every period of every report type and its status in the periods table: archived (0 rows means nothing was sold), "
        "not found (Amazon has no report), quarantined, pending, deferred, failed or unsupported.",
    )
    for kind in sorted({p.report for p in report.periods}, key=lambda r: (r != "sales", r)):
        mine = sorted((p for p in report.periods if p.report == kind), key=lambda p: p.period)
        yearly = all(len(p.period) == 4 for p in mine)
        values = [
            {
                "row": p.period[:4] if not yearly else kind,
                "column": p.period if yearly else MONTH_NAMES[int(p.period[5:]) - 1],
                "status": p.status,
                "period": p.period,
            }
            for p in mine
        ]
        spec = charts.calendar(f"{kind}: status of each period", values, yearly)
        if not yearly:
            spec["encoding"]["x"]["sort"] = MONTH_NAMES
        tally = Counter(p.status for p in mine)
        headers = ["Period", "Status", "Rows", "Last error"]
        rows: list[list[Cell]] = [[p.period, p.status, count(p.rows, NO_ROWS), p.error] for p in mine]
        note = ", ".join(f"{n} {status}" for status, n in sorted(tally.items()))
        section.figures.append(Figure(f"completeness-{slug(kind)}", spec, Table(headers, rows), note))
    return section
