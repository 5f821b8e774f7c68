"""The report's data: the template's named queries run once each, cut to the months asked."""

from __future__ import annotations

from dataclasses import dataclass

from cli.query import QueryError
from cli.report import data
from cli.report.source import Ask

REVENUE = "Revenue and earnings by app and currency per month"
BY_SKU = "Units and sales by app, SKU and marketplace per month"
APPROVED = "Earnings before tax per month and currency (typed earnings)"
RESTATEMENTS_VIEW = "Create the sales restatements view"
COMPLETENESS = "Completeness per report type and period"
RESTATED_MONTHS = 6  # the restatements shown: the last months of the range that have a history


class NothingArchived(RuntimeError):
    """The archive has no period yet: nothing to report."""


@dataclass(frozen=True)
class Report:
    """Everything the page shows, for the months first…last."""

    label: str
    months: list[str]
    sales: list[data.Sales]
    skus: list[data.Sales]
    approved: list[data.Approved] | None  # None: no earnings report archived in the range, or none readable
    approved_note: str  # why there is no approved figure, when there is none
    fetches: list[data.Fetch]
    periods: list[data.Period]


def span(periods: list[data.Period], sales: list[data.Sales], first: str | None, last: str | None) -> tuple[str, str]:
    """The months asked, or by default from the first archived month (a yearly period's January only when no month is
    archived) to the latest month of the periods table."""
    monthly = [p.period for p in periods if len(p.period) == 7]
    archived = [p.period for p in periods if p.status == "archived" and len(p.period) == 7] + [s.month for s in sales]
    yearly = [f"{p.period}-01" for p in periods if p.status == "archived" and len(p.period) == 4]
    starts = archived or yearly or monthly
    ends = monthly + [s.month for s in sales]
    if not (first or starts) or not (last or ends):
        raise NothingArchived("the archive holds no period yet: run the archiver first")
    return first or min(starts), last or max(ends)


def in_range(period: str, first: str, last: str) -> bool:
    """Whether a month (YYYY-MM) or a year (YYYY) falls in first…last."""
    return first <= period <= last if len(period) == 7 else first[:4] <= period <= last[:4]


def approved_rows(ask: Ask, periods: list[data.Period], first: str, last: str) -> tuple[list[data.Approved] | None, str]:
    """The earnings reports' earnings before tax, or None and why (none archived; a typed view without those columns)."""
    if not any(p.report == "earnings" and p.status == "archived" for p in periods):
        return None, "No earnings report is archived for these months: only the sales reports' estimate is shown."
    try:
        rows = data.approved(ask.named(APPROVED))
    except QueryError as exc:  # the typed columns follow the served headers: another file layout has other names
        return None, f"The archived earnings reports give no earnings before tax per currency ({exc}): only the estimate is shown."
    return [a for a in rows if first <= a.month <= last], ""


def collect(ask: Ask, database: str, table: str, label: str, first: str | None = None, last: str | None = None) -> Report:
    """Run the queries and keep the rows of the months first…last (default: the whole archive)."""
    periods = data.periods(ask.named(COMPLETENESS))
    sales = data.sales(ask.named(REVENUE))
    first, last = span(periods, sales, first, last)
    periods = [p for p in periods if in_range(p.period, first, last)]
    skus = [s for s in data.sales(ask.named(BY_SKU)) if first <= s.month <= last]
    approved, note = approved_rows(ask, periods, first, last)
    ask.named(RESTATEMENTS_VIEW)  # CREATE OR REPLACE VIEW: the view as the template defines it now
    view = f'SELECT * FROM "{database}"."{table}_restatements"'  # noqa: S608 (names from the stack's outputs, not input)
    fetches = [f for f in data.fetches(ask.sql(view)) if first <= f.month <= last]
    shown = sorted({f.month for f in fetches})[-RESTATED_MONTHS:]
    return Report(
        label=label,
        months=data.months(first, last),
        sales=[s for s in sales if first <= s.month <= last],
        skus=skus,
        approved=approved,
        approved_note=note,
        fetches=sorted((f for f in fetches if f.month in shown), key=lambda f: (f.month, f.number, f.currency)),
        periods=periods,
    )
