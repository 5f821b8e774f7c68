"""The report-type table: link paths, S3 layout, partitions, periods and the REPORTS setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.core.months import Month
from archiver.core.periods import Year
from archiver.core.report_types import BY_NAME, DEFAULT_REPORTS, REPORT_TYPES, ReportsError, parse_reports
from archiver.core.settings import ConfigError, Settings
from archiver.storage.store import ArchiveStore

SALES, EARNINGS, YEARLY, SUBSCRIPTION = (BY_NAME[n] for n in ("sales", "earnings", "earnings_yearly", "subscription"))
ENV = {"SECRET_ID": "s", "ARCHIVE_BUCKET": "b", "GLUE_DATABASE": "d", "GLUE_TABLE": "t"}


def test_the_table_lists_the_four_types_sales_first() -> None:
    assert [r.name for r in REPORT_TYPES] == ["sales", "earnings", "earnings_yearly", "subscription"]
    assert DEFAULT_REPORTS == "sales,earnings,earnings_yearly,subscription"
    assert [r.curated for r in REPORT_TYPES] == ["csv", "jsonl", "jsonl", "jsonl"]
    assert [r.table_name("sales") for r in REPORT_TYPES] == ["sales", "sales_earnings", "sales_earnings_yearly", "sales_subscription"]


@pytest.mark.parametrize(
    ("name", "period", "path"),
    [
        ("sales", Month(2024, 3), "sales/2024/3"),
        ("sales", Month(2024, 11), "sales/2024/11"),
        ("earnings", Month(2019, 1), "earnings/2019/1"),
        ("earnings_yearly", Year(2023), "earnings/2023"),
        ("subscription", Month(2024, 12), "subscription/2024/12"),
    ],
)
def test_link_paths(name: str, period: Month | Year, path: str) -> None:
    assert BY_NAME[name].link_path(period) == path


def test_a_period_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="earnings_yearly is yearly"):
        YEARLY.link_path(Month(2024, 3))
    with pytest.raises(TypeError, match="sales is monthly"):
        SALES.curated_key("p/", Year(2024))


@pytest.mark.parametrize("prefix", ["appstore/", "", "vendors/amazon/"])
def test_sales_layout_is_exactly_the_stores(prefix: str) -> None:
    store = ArchiveStore(None, "bucket", prefix)  # type: ignore[arg-type]
    for month in (Month(2018, 1), Month(2024, 12)):
        assert SALES.raw_prefix(prefix, month) == store.raw_prefix(month)
        assert SALES.curated_prefix(prefix, month) == store.curated_prefix(month)
        assert SALES.curated_key(prefix, month) == store.curated_key(month)
        assert SALES.location("bucket", prefix, month) == store.location(month)
        assert SALES.state_key(prefix, "not_found", month) == store.marker_key("not_found", month)
        assert SALES.quarantine_key(prefix, month, "ab12", "s.zip") == store.quarantine_key(month, "ab12", "s.zip")


def test_monthly_and_yearly_layouts() -> None:
    march = Month(2024, 3)
    assert EARNINGS.raw_prefix("a/", march) == "a/raw/earnings/year=2024/month=03/"
    assert EARNINGS.curated_key("a/", march) == "a/earnings/year=2024/month=03/earnings_2024_03.json.gz"
    assert SUBSCRIPTION.curated_key("", march) == "subscription/year=2024/month=03/subscription_2024_03.json.gz"
    assert YEARLY.raw_prefix("a/", Year(2024)) == "a/raw/earnings_yearly/year=2024/"
    assert YEARLY.curated_key("a/", Year(2024)) == "a/earnings_yearly/year=2024/earnings_yearly_2024.json.gz"
    assert YEARLY.location("b", "a/", Year(2024)) == "s3://b/a/earnings_yearly/year=2024/"
    assert YEARLY.table_prefix("a/") == "a/earnings_yearly/"
    assert YEARLY.state_key("a/", "unsupported", Year(2024)) == "a/state/earnings_yearly/unsupported/2024.json"
    assert EARNINGS.quarantine_key("a/", march, "ab12", "e.zip") == "a/quarantine/earnings/year=2024/month=03/ab12-e.zip"
    assert (YEARLY.partition_keys, YEARLY.partition_values(Year(2024))) == (("year",), ("2024",))
    assert (EARNINGS.partition_keys, EARNINGS.partition_values(march)) == (("year", "month"), ("2024", "03"))


def test_periods_found_in_keys() -> None:
    assert EARNINGS.period_in_key("a/raw/earnings/year=2024/month=03/x.zip") == Month(2024, 3)
    assert YEARLY.period_in_key("a/raw/earnings_yearly/year=2024/x.zip") == Year(2024)
    assert YEARLY.period_in_key("a/raw/earnings/year=2024/month=03/x.zip") is None
    assert EARNINGS.period_in_key("a/raw/earnings_yearly/year=2024/x.zip") is None
    assert EARNINGS.period_in_key("a/raw/earnings/year=2024/month=13/x.zip") is None


def test_periods() -> None:
    assert YEARLY.period_of(Month(2024, 3)) == Year(2024)
    assert EARNINGS.period_of(Month(2024, 3)) == Month(2024, 3)
    assert YEARLY.parse_period("2024") == Year(2024)
    assert EARNINGS.parse_period("2024-03") == Month(2024, 3)
    with pytest.raises(ValueError, match="expected 'YYYY'"):
        YEARLY.parse_period("2024-03")
    assert list(Year(2018).through(Year(2020))) == [Year(2018), Year(2019), Year(2020)]
    assert Year(2024).shift(-2) == Year(2022) and str(Year(2024)) == "2024"
    assert Year.of(datetime(2025, 1, 1, tzinfo=UTC)) == Year(2025)
    assert Year(2023) < Year(2024)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("sales", ["sales"]),
        (" earnings , sales ", ["sales", "earnings"]),
        ("subscription,earnings_yearly,subscription", ["earnings_yearly", "subscription"]),
        (DEFAULT_REPORTS, ["sales", "earnings", "earnings_yearly", "subscription"]),
    ],
)
def test_parse_reports(text: str, names: list[str]) -> None:
    assert [r.name for r in parse_reports(text)] == names


@pytest.mark.parametrize(("text", "message"), [("", "at least one"), (" , ", "at least one"), ("sales,payments", "'payments'")])
def test_parse_reports_refuses(text: str, message: str) -> None:
    with pytest.raises(ReportsError, match=message):
        parse_reports(text)


def test_settings_read_reports() -> None:
    assert Settings.from_env(ENV).reports == REPORT_TYPES
    assert [r.name for r in Settings.from_env({**ENV, "REPORTS": "earnings"}).reports] == ["earnings"]
    with pytest.raises(ConfigError, match="REPORTS names unknown"):
        Settings.from_env({**ENV, "REPORTS": "Sales"})
