"""The report's data: the default months, yearly periods, approved earnings that cannot be read, the restated months kept."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cli.query import QueryError, Result
from cli.report.collect import APPROVED, BY_SKU, COMPLETENESS, RESTATEMENTS_VIEW, REVENUE, NothingArchived, collect

SALES_COLUMNS = ["year", "month", "title", "marketplace_currency", "transactions", "units", "sales", "estimated_earnings"]
PERIOD_COLUMNS = ["report", "period", "status", "row_count", "served_name", "sha256", "first_archived", "last_changed", "last_error"]
FETCH_COLUMNS = ["year", "month", "fetch_number", "fetched_at", "source_sha256", "currency", "rows", "units", "sales", "estimated_earnings"]
APPROVED_COLUMNS = ["year", "month", "currency", "marketplaces", "earnings_before_tax"]
FETCH_COLUMNS += ["rows_change", "units_change", "sales_change", "estimated_earnings_change"]


class Recorded:
    """Answers each query with a result given up front (Athena's answers are text) and records what was asked."""

    def __init__(self, named: dict[str, Result | QueryError], view: Result) -> None:
        self.answers, self.view, self.asked = named, view, []

    def named(self, name: str) -> Result:
        self.asked.append(name)
        answer = self.answers[name]
        if isinstance(answer, QueryError):
            raise answer
        return answer

    def sql(self, text: str) -> Result:
        assert text == 'SELECT * FROM "db"."sales_restatements"'
        return self.view


def period(report: str, name: str, status: str = "archived") -> tuple[str, ...]:
    return (report, name, status, "3", "", "", "", "", "")


def fetch(month: str, number: int) -> tuple[str, ...]:
    return (month[:4], month[5:], str(number), f"{month}-28 06:00:00", "ab", "USD", "3", "3", "2.97", "2.08", None, None, None, None)


def archive(periods: list[tuple[str, ...]], approved: Result | QueryError | None = None, fetches: int = 0) -> Recorded:
    sales = Result(SALES_COLUMNS, [("2024", "02", "App", "USD", "3", "3", "2.970000", "2.080000")])
    answers: dict[str, Result | QueryError] = {
        COMPLETENESS: Result(PERIOD_COLUMNS, periods),
        REVENUE: sales,
        BY_SKU: Result([*SALES_COLUMNS, "vendor_sku", "marketplace"], [(*sales.rows[0], "SKU-1", "amazon.com")]),
        RESTATEMENTS_VIEW: Result([], []),
        APPROVED: approved or Result(APPROVED_COLUMNS, [("2024", "02", "USD", "1", "2.50")]),
    }
    months = [f"2023-{m:02d}" for m in range(1, 13)][-fetches:] if fetches else []
    return Recorded(answers, Result(FETCH_COLUMNS, [fetch(m, n) for m in months for n in (1, 2)]))


def test_the_months_run_from_the_first_archived_period_to_the_latest_one() -> None:
    ask = archive([period("sales", "2024-01", "not_found"), period("sales", "2024-02"), period("sales", "2024-05", "deferred")])
    assert collect(ask, "db", "sales", "x").months == ["2024-02", "2024-03", "2024-04", "2024-05"]
    yearly = archive([period("earnings_yearly", "2023"), period("sales", "2024-02")])
    report = collect(yearly, "db", "sales", "x")
    assert report.months == ["2024-02"]  # a yearly period does not pull the months back to its January
    only_yearly = archive([period("earnings_yearly", "2023"), period("sales", "2024-02", "deferred")])
    only_yearly.answers[REVENUE] = Result(SALES_COLUMNS, [])
    assert collect(only_yearly, "db", "sales", "x").months[0] == "2023-01"
    assert [p.period for p in collect(yearly, "db", "sales", "x", "2024-01", "2024-02").periods] == ["2024-02"]  # 2023 is out
    assert [p.period for p in collect(yearly, "db", "sales", "x", "2023-12", "2024-02").periods] == ["2023", "2024-02"]


def test_an_empty_archive_has_nothing_to_report() -> None:
    ask = archive([])
    ask.answers[REVENUE] = Result(SALES_COLUMNS, [])
    with pytest.raises(NothingArchived):
        collect(ask, "db", "sales", "x")


def test_approved_earnings_are_asked_only_when_an_earnings_report_is_archived() -> None:
    ask = archive([period("sales", "2024-02"), period("earnings", "2024-02", "not_found")])
    report = collect(ask, "db", "sales", "x")
    assert report.approved is None and "No earnings report is archived" in report.approved_note and APPROVED not in ask.asked
    report = collect(archive([period("sales", "2024-02"), period("earnings", "2024-02")]), "db", "sales", "x")
    assert [(a.month, a.currency, a.amount) for a in report.approved or []] == [("2024-02", "USD", Decimal("2.50"))]
    assert report.approved_note == ""


def test_earnings_whose_typed_view_has_other_columns_leave_the_estimate_alone() -> None:
    missing = QueryError('COLUMN_NOT_FOUND: Column "earnings_before_tax" cannot be resolved')
    report = collect(archive([period("sales", "2024-02"), period("earnings", "2024-02")], missing), "db", "sales", "x")
    assert report.approved is None and "earnings_before_tax" in report.approved_note
    assert [s.earnings for s in report.sales] == [Decimal("2.08")]


def test_the_restatements_shown_are_the_last_six_months_with_a_history() -> None:
    report = collect(archive([period("sales", "2023-01"), period("sales", "2024-02")], fetches=8), "db", "sales", "x")
    assert sorted({f.month for f in report.fetches}) == [f"2023-{m:02d}" for m in range(7, 13)]
    assert [f.number for f in report.fetches if f.month == "2023-12"] == [1, 2]


def test_a_month_without_sales_rows_is_no_app_or_currency() -> None:
    """The sales queries keep a row per month of the periods table; an empty month's row (NULL app and currency, 0
    transactions, Athena's text) is no sale, and does not pull the months back: its status is in the periods."""
    columns = [*SALES_COLUMNS[:2], "status", *SALES_COLUMNS[2:]]
    sold = ("2024", "02", "archived", "App", "USD", "3", "3", "2.970000", "2.080000")
    empty = ("2024", "01", "not_found", None, None, "0", None, None, None)
    ask = archive([period("sales", "2024-01", "not_found"), period("sales", "2024-02")])
    ask.answers[REVENUE] = Result(columns, [sold, empty])
    ask.answers[BY_SKU] = Result([*columns, "vendor_sku", "marketplace"], [(*sold, "SKU-1", "amazon.com"), (*empty, None, None)])
    report = collect(ask, "db", "sales", "x")
    assert report.months == ["2024-02"]
    assert [(s.month, s.title, s.currency, s.transactions, s.sales) for s in report.sales] == [
        ("2024-02", "App", "USD", 3, Decimal("2.97"))
    ]
    assert [(s.month, s.sku) for s in report.skus] == [("2024-02", "SKU-1")]
    assert [(p.period, p.status) for p in collect(ask, "db", "sales", "x", "2024-01", "2024-02").periods] == [
        ("2024-01", "not_found"),
        ("2024-02", "archived"),
    ]
