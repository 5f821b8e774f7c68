"""Pure pieces of the CLI: event flags, the stack output's prefix, key classification, month state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.core.months import Month
from archiver.core.periods import Year
from archiver.core.report_types import BY_NAME, SALES
from cli.checks import Problem
from cli.inventory import Item, MonthRecord
from cli.layout import classify, classify_key
from cli.plan import EventError, build_event
from cli.runner import _span
from cli.status import state_of
from cli.target import TargetError, prefix_of
from cli.verify import repair_pairs


def test_build_event_from_flags() -> None:
    assert build_event() == {}
    assert build_event(("2024-01,2024-02", "2024-03"), force=True) == {"months": ["2024-01", "2024-02", "2024-03"], "force": True}
    assert build_event(first="2024-01") == {"from": "2024-01"}
    assert build_event(("2024-01",), force=True, reports=("sales",)) == {"months": ["2024-01"], "force": True, "reports": ["sales"]}
    with pytest.raises(EventError, match="unknown report type"):
        build_event(reports=("sale",))
    with pytest.raises(EventError, match="2017-12"):
        build_event(("2017-12",))


@pytest.mark.parametrize(
    ("location", "prefix"), [("s3://b/appstore/sales/", "appstore/"), ("s3://b/sales/", ""), ("s3://b/a/b/sales/", "a/b/")]
)
def test_prefix_of_archive_location(location: str, prefix: str) -> None:
    assert prefix_of(location, "b") == prefix


def test_prefix_of_refuses_another_bucket() -> None:
    with pytest.raises(TargetError):
        prefix_of("s3://other/appstore/sales/", "b")


def test_layout_classifies_keys_by_the_function_layout() -> None:
    month = Month(2024, 2)
    assert classify(SALES, "p/", "p/raw/sales/year=2024/month=02/report.zip") == ("raw", month)
    assert classify(SALES, "p/", "p/sales/year=2024/month=02/sales_2024_02.csv.gz") == ("curated", month)
    assert classify(SALES, "p/", "p/state/sales/pending/2024-02.json") == ("pending", month)
    assert classify(SALES, "p/", f"p/quarantine/sales/year=2024/month=02/{'0' * 64}-report.zip") == ("quarantine", month)
    assert classify(SALES, "p/", "p/state/sales/unsupported.json") == ("unsupported", None)
    assert classify(SALES, "p/", "p/periods/sales.json.gz") == ("periods", None)
    for stray in (
        "p/sales/year=2024/month=02/sales_2024_03.csv.gz",
        "p/raw/sales/year=2024/month=13/x",
        "p/state/sales/other/2024-02.json",
        "p/x",
    ):
        assert classify(SALES, "p/", stray) is None
        assert classify_key("p/", stray) is None


def test_layout_classifies_every_report_types_keys() -> None:
    earnings, yearly = BY_NAME["earnings"], BY_NAME["earnings_yearly"]
    assert classify_key("p/", "p/earnings_yearly/year=2023/earnings_yearly_2023.json.gz") == (yearly, "curated", Year(2023))
    assert classify_key("p/", "p/raw/earnings/year=2024/month=02/e.csv") == (earnings, "raw", Month(2024, 2))
    assert classify_key("p/", "p/state/earnings_yearly/not_found/2023.json") == (yearly, "not_found", Year(2023))


def test_state_precedence() -> None:
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    raw, curated = Item("raw", 1, early), Item("curated", 1, early)
    assert state_of(MonthRecord(Month(2024, 1))) == "missing"
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw], curated=curated)) == "archived"
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw])) == "missing"  # a raw copy without its curated copy: not queryable
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw], curated=curated, quarantine=[Item("q", 1, late)])) == "quarantined"
    late_raw = [Item("raw", 1, late)]
    assert state_of(MonthRecord(Month(2024, 1), raw=late_raw, curated=curated, quarantine=[Item("q", 1, early)])) == "archived"
    assert state_of(MonthRecord(Month(2024, 1), markers={"not_found": raw})) == "not_found"
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw], markers={"deferred": raw})) == "deferred"


def test_no_report_types_keys_are_stray() -> None:
    sha = "ab" * 32
    for key in (
        "p/raw/earnings/year=2024/month=02/earnings.csv.gz",
        "p/earnings/year=2024/month=02/earnings_2024_02.json.gz",
        "p/raw/earnings_yearly/year=2023/earnings_2023.zip",
        "p/earnings_yearly/year=2023/earnings_yearly_2023.json.gz",
        "p/subscription/year=2024/month=02/subscription_2024_02.json.gz",
        "p/state/earnings/not_found/2024-02.json",
        "p/state/earnings_yearly/pending/2023.json",
        "p/state/subscription/unsupported.json",
        "p/state/sales/unsupported.json",
        "p/state/earnings/columns.json",
        "p/state/earnings_yearly/columns.json",
        "p/state/subscription/columns.json",
        f"p/quarantine/earnings/year=2024/month=02/{sha}-earnings.csv",
        f"p/quarantine/earnings_yearly/year=2023/{sha}-e.zip",
        "p/periods/earnings_yearly.json.gz",
    ):
        assert classify_key("p/", key) is not None, key
    for stray in (
        "p/earnings/year=2024/month=02/earnings_2024_03.json.gz",
        "p/earnings_yearly/year=2023/month=01/earnings_yearly_2023.json.gz",
        "p/state/earnings_yearly/pending/2023-01.json",
        "p/state/earnings/other/2024-02.json",
        "p/state/sales/columns.json",
        "p/state/earnings/columns.json.tmp",
        "p/raw/sales/year=2024/month=13/x",
        "p/quarantine/earnings/year=2024/month=02/not-a-sha.csv",
        "p/subscriptions/year=2024/month=02/x",
        "p/periods/payments.json.gz",
        "p/periods/sales.json",
    ):
        assert classify_key("p/", stray) is None, stray


def _broken(report: str, period: str, check: str = "curated") -> Problem:
    return Problem(check, "x", period, report=report)


def test_repair_pairs_are_exactly_the_broken_periods_of_each_type() -> None:
    problems = [_broken("sales", "2024-02"), _broken("earnings_yearly", "2023"), _broken("sales", "2024-02", "partition")]
    assert repair_pairs(problems) == [{"report": "earnings_yearly", "period": "2023"}, {"report": "sales", "period": "2024-02"}]
    assert repair_pairs([_broken("earnings", "2024-01", "stray"), Problem("table", "x", report="earnings")]) == []
    assert repair_pairs([_broken("sales", "2017-12"), _broken("earnings_yearly", "2017")]) == []  # the function would refuse them


def test_the_planned_span_is_chronological_with_gaps_shown() -> None:
    window = [("sales", "2026-11"), ("sales", "2026-10"), ("sales", "2026-09")]
    assert _span(window) == " (sales 2026-09 … 2026-11 (3))"
    assert (
        _span([*window, ("sales", "2020-01"), ("earnings_yearly", "2026")])
        == " (sales 2020-01, 2026-09 … 2026-11 (4), earnings_yearly 2026)"
    )
    assert (
        _span([("earnings_yearly", "2026"), ("earnings_yearly", "2024"), ("earnings_yearly", "2025")])
        == " (earnings_yearly 2024 … 2026 (3))"
    )
