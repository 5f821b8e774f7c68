"""The sales figures: units by app, sales per currency by app, estimated against approved earnings."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from cli.report import charts
from cli.report.collect import Report
from cli.report.data import Sales
from cli.report.figure import Cell, Figure, Number, Section, Table, Total, amount, count, date_of, left_out, notes, slug, total_of, unknown

SHOWN_APPS = 8  # the apps drawn by name; the rest are drawn together as "Other apps" (the tables name every app)
OTHERS = "Other apps"
NO_ESTIMATE = "no sales row in this month and currency"
NO_APPROVED = "no earnings before tax for this month and currency in the archived earnings reports"
NO_APPROVED_VALUE = "no parseable earnings before tax in the archived earnings reports"


def drawn(rows: list[Sales]) -> dict[str, str]:
    """Each app's series in the charts: its name for the SHOWN_APPS apps with the most units, else OTHERS.

    Only the ranking reads unknown units (a NULL sum) as none; no table or chart shows them as 0."""
    units: dict[str, int] = defaultdict(int)
    for row in rows:
        units[row.title] += row.units or 0
    ranked = sorted(units, key=lambda t: (-units[t], t))
    return {title: title if i < SHOWN_APPS else OTHERS for i, title in enumerate(ranked)}


def by_month(rows: list[Sales], value: str, series: dict[str, str]) -> tuple[list[dict[str, object]], int]:
    """Chart values: per month and series the sum of a field, and how many sums were left out for a part without a value."""
    sums: dict[tuple[str, str], Total] = defaultdict(Total)
    for row in rows:
        sums[row.month, series[row.title]].add(getattr(row, value))
    values = [{"date": date_of(m), "series": s, "value": float(v)} for (m, s), t in sorted(sums.items()) if (v := t.value) is not None]
    return values, len(sums) - len(values)


def sales_section(report: Report) -> Section:
    """Units per month by app, then per currency sales by app (currencies are never added together)."""
    section = Section("Units and sales per month", "One chart per currency: Amazon reports each marketplace in its own currency.")
    series, months = drawn(report.sales), report.months
    rows = sorted(report.sales, key=lambda r: (r.month, r.title, r.currency))
    units_table = Table(
        ["Month", "App", "Currency", "Transactions", "Units"],
        [[r.month, r.title, r.currency, count(r.transactions), count(r.units)] for r in rows],
    )
    values, missing = by_month(rows, "units", series)
    spec = charts.stacked_months("Units per month, by app (all marketplaces)", values, months, "Units", "App")
    note = notes(left_out(missing), "" if rows else "No sales rows in these months.")
    section.figures.append(Figure("units", spec if rows else None, units_table, note))
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        table = Table(
            ["Month", "App", "Transactions", "Units", f"Sales ({currency})", f"Estimated earnings ({currency})"],
            [[r.month, r.title, count(r.transactions), count(r.units), amount(r.sales), amount(r.earnings)] for r in mine],
        )
        title = f"Sales per month in {currency}, by app"
        values, missing = by_month(mine, "sales", series)
        spec = charts.stacked_months(title, values, months, f"Sales ({currency})", "App")
        section.figures.append(Figure(f"sales-{slug(currency)}", spec, table, left_out(missing)))
    return section


def earnings_section(report: Report) -> Section:
    """Per currency and month: the sales report's estimated earnings beside the earnings report's earnings before tax."""
    section = Section(
        "Estimated and approved earnings",
        "Estimated: the sales reports' estimated earnings. Approved: the earnings reports' earnings before tax. " + report.approved_note,
    )
    estimated: dict[tuple[str, str], Total] = defaultdict(Total)
    for row in report.sales:
        estimated[row.currency, row.month].add(row.earnings)
    approved = {(a.currency, a.month): a.amount for a in report.approved or []}
    for currency in sorted({c for c, _ in estimated} | {c for c, _ in approved}):
        months = sorted({m for c, m in [*estimated, *approved] if c == currency})
        mine = {m: estimated.get((currency, m), Total()) for m in months}
        values = [
            {"date": date_of(m), "series": "Estimated (sales report)", "value": float(v)}
            for m in months
            if (v := mine[m].value) is not None
        ]
        values += [
            {"date": date_of(m), "series": "Approved (earnings report)", "value": float(v)}
            for m in months
            if (v := approved.get((currency, m))) is not None
        ]
        missing = sum(1 for m in months if mine[m].parts and mine[m].value is None)
        missing += sum(1 for m in months if (currency, m) in approved and approved[currency, m] is None)
        headers = ["Month", f"Estimated ({currency})", f"Approved ({currency})", "Approved − estimated"]
        rows: list[list[Cell]] = [
            [
                m,
                total_of(mine[m], empty=NO_ESTIMATE),
                approved_cell(approved, (currency, m)),
                difference(mine[m], approved.get((currency, m))),
            ]
            for m in months
        ]
        title = f"Earnings per month in {currency}: estimated and approved"
        spec = charts.lines_by_month(title, values, report.months, f"Earnings ({currency})", "Source")
        section.figures.append(Figure(f"earnings-{slug(currency)}", spec, Table(headers, rows), left_out(missing)))
    return section


def approved_cell(approved: dict[tuple[str, str], Decimal | None], key: tuple[str, str]) -> Number:
    """The earnings before tax of a currency and month: a dash when the earnings reports have no row or no parseable value."""
    return amount(approved[key], NO_APPROVED_VALUE) if key in approved else unknown(NO_APPROVED)


def difference(estimated: Total, approved: Decimal | None) -> Number:
    """Approved minus estimated, when both are wholly known (never against an estimate that lacks some rows' earnings)."""
    if approved is not None and (known := estimated.value) is not None:
        return amount(approved - known)
    if approved is not None and estimated.unknown < estimated.parts:
        return unknown(f"the estimate lacks the earnings of {estimated.unknown} of its {estimated.parts} parts: no difference is computed")
    return unknown("estimated or approved earnings unknown: no difference is computed")
