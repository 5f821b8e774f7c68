"""Pure pieces of the CLI: event flags, the stack output's prefix, key classification, month state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.months import Month
from archiver.store import ArchiveStore
from cli.archive import Item, Layout, MonthRecord
from cli.otherkeys import is_other_report_key
from cli.plan import EventError, build_event
from cli.status import state_of
from cli.target import TargetError, prefix_of


def test_build_event_from_flags() -> None:
    assert build_event() == {}
    assert build_event(("2024-01,2024-02", "2024-03"), force=True) == {"months": ["2024-01", "2024-02", "2024-03"], "force": True}
    assert build_event(first="2024-01") == {"from": "2024-01"}
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
    layout = Layout(ArchiveStore(None, "b", "p/"))  # type: ignore[arg-type]
    month = Month(2024, 2)
    assert layout.classify("p/raw/sales/year=2024/month=02/report.zip") == ("raw", month)
    assert layout.classify("p/sales/year=2024/month=02/sales_2024_02.csv.gz") == ("curated", month)
    assert layout.classify("p/state/sales/pending/2024-02.json") == ("pending", month)
    assert layout.classify(f"p/quarantine/sales/year=2024/month=02/{'0' * 64}-report.zip") == ("quarantine", month)
    for stray in (
        "p/sales/year=2024/month=02/sales_2024_03.csv.gz",
        "p/raw/sales/year=2024/month=13/x",
        "p/state/sales/other/2024-02.json",
        "p/x",
    ):
        assert layout.classify(stray) is None


def test_state_precedence() -> None:
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    raw = Item("raw", 1, early)
    assert state_of(MonthRecord(Month(2024, 1))) == "missing"
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw])) == "archived"
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw], quarantine=[Item("q", 1, late)])) == "quarantined"
    assert state_of(MonthRecord(Month(2024, 1), raw=[Item("raw", 1, late)], quarantine=[Item("q", 1, early)])) == "archived"
    assert state_of(MonthRecord(Month(2024, 1), markers={"not_found": raw})) == "not_found"
    assert state_of(MonthRecord(Month(2024, 1), raw=[raw], markers={"deferred": raw})) == "deferred"


def test_other_report_types_keys_are_not_stray() -> None:
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
        f"p/quarantine/earnings/year=2024/month=02/{sha}-earnings.csv",
        f"p/quarantine/earnings_yearly/year=2023/{sha}-e.zip",
    ):
        assert is_other_report_key("p/", key), key
    for stray in (
        "p/earnings/year=2024/month=02/earnings_2024_03.json.gz",
        "p/earnings_yearly/year=2023/month=01/earnings_yearly_2023.json.gz",
        "p/state/earnings_yearly/pending/2023-01.json",
        "p/state/earnings/other/2024-02.json",
        "p/raw/sales/year=2024/month=13/x",
        "p/quarantine/earnings/year=2024/month=02/not-a-sha.csv",
        "p/subscriptions/year=2024/month=02/x",
    ):
        assert not is_other_report_key("p/", stray), stray
