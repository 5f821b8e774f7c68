"""The sales figures: units by app, sales per currency by app, estimated against approved earnings."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from cli.report import charts
from cli.report.collect import Report
from cli.report.data import Sales
from cli.report.figure import Figure, Section, Table, amount, count, date_of, slug

SHOWN_APPS = 8  # the apps drawn by name; the rest are drawn together as "Other apps" (the tables name every app)
OTHERS = "Other apps"


def drawn(rows: list[Sales]) -> dict[str, str]:
    """Each app's series in the charts: its name for the SHOWN_APPS apps with the most units, else OTHERS."""
    units: dict[str, int] = defaultdict(int)
    for row in rows:
        units[row.title] += row.units
    ranked = sorted(units, key=lambda t: (-units[t], t))
    return {title: title if i < SHOWN_APPS else OTHERS for i, title in enumerate(ranked)}


def by_month(rows: list[Sales], value: str, series: dict[str, str]) -> list[dict[str, object]]:
    """Chart values: per month and series the sum of a field."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row.month, series[row.title]] += Decimal(getattr(row, value))
    return [{"date": date_of(m), "series": s, "value": float(v)} for (m, s), v in sorted(sums.items())]


def sales_section(report: Report) -> Section:
    """Units per month by app, then per currency sales by app (currencies are never added together)."""
    section = Section("Units and sales per month", "One chart per currency: Amazon reports each marketplace in its own currency.")
    series, months = drawn(report.sales), report.months
    rows = sorted(report.sales, key=lambda r: (r.month, r.title, r.currency))
    units_table = Table(
        ["Month", "App", "Currency", "Transactions", "Units"],
        [[r.month, r.title, r.currency, count(r.transactions), count(r.units)] for r in rows],
    )
    spec = charts.stacked_months("Units per month, by app (all marketplaces)", by_month(rows, "units", series), months, "Units", "App")
    section.figures.append(Figure("units", spec if rows else None, units_table, "" if rows else "No sales rows in these months."))
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        table = Table(
            ["Month", "App", "Transactions", "Units", f"Sales ({currency})", f"Estimated earnings ({currency})"],
            [[r.month, r.title, count(r.transactions), count(r.units), amount(r.sales), amount(r.earnings)] for r in mine],
        )
        title = f"Sales per month in {currency}, by app"
        spec = charts.stacked_months(title, by_month(mine, "sales", series), months, f"Sales ({currency})", "App")
        section.figures.append(Figure(f"sales-{slug(currency)}", spec, table))
    return section


def earnings_section(report: Report) -> Section:
    """Per currency and month: the sales report's estimated earnings beside the earnings report's earnings before tax."""
    section = Section(
        "Estimated and approved earnings",
        "Estimated: the sales reports' estimated earnings. Approved: the earnings reports' earnings before tax. " + report.approved_note,
    )
    estimated: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in report.sales:
        if row.earnings is not None:
            estimated[row.currency, row.month] += row.earnings
    approved = {(a.currency, a.month): a.amount for a in report.approved or []}
    for currency in sorted({c for c, _ in estimated} | {c for c, _ in approved}):
        months = sorted({m for c, m in [*estimated, *approved] if c == currency})
        values = [
            {"date": date_of(m), "series": "Estimated (sales report)", "value": float(estimated[currency, m])}
            for m in months
            if (currency, m) in estimated
        ]
        values += [
            {"date": date_of(m), "series": "Approved (earnings report)", "value": float(v)}
            for m in months
            if (v := approved.get((currency, m))) is not None
        ]
        headers = ["Month", f"Estimated ({currency})", f"Approved ({currency})", "Approved − estimated"]
        rows = [
            [
                m,
                amount(estimated.get((currency, m))),
                amount(approved.get((currency, m))),
                amount(diff(estimated.get((currency, m)), approved.get((currency, m)))),
            ]
            for m in months
        ]
        title = f"Earnings per month in {currency}: estimated and approved"
        spec = charts.lines_by_month(title, values, report.months, f"Earnings ({currency})", "Source")
        section.figures.append(Figure(f"earnings-{slug(currency)}", spec, Table(headers, rows)))
    return section


def diff(estimated: Decimal | None, approved: Decimal | None) -> Decimal | None:
    """Approved minus estimated, when both are known."""
    return None if estimated is None or approved is None else approved - estimated
