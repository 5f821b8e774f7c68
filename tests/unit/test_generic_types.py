"""The generic pipeline's parts per report type: planning in years, the store's state, the unsupported answer and its gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from archiver.amazon.appstore import AppstoreError, ReportUnsupported, _link_from
from archiver.core.months import Month
from archiver.core.periods import PlannedMonth, Year
from archiver.core.report_types import BY_NAME
from archiver.run.plan import Request, plan_months
from archiver.run.startup import Clients
from archiver.run.unsupported import skipped, still_refused
from archiver.storage.store import ArchiveState, ArchiveStore
from tests.unit.conftest import BUCKET

YEARLY, EARNINGS = BY_NAME["earnings_yearly"], BY_NAME["earnings"]
NOW = datetime(2024, 5, 10, tzinfo=UTC)


def test_the_yearly_type_plans_years() -> None:
    planned = plan_months(Request(None), ArchiveState(), Month(2024, 1), Month(2021, 6), 2, NOW, YEARLY)
    assert [p.month for p in planned] == [Year(2024), Year(2023), Year(2021), Year(2022)]  # lookback years, then the backfill
    archived = ArchiveState(archived=frozenset({Year(2021), Year(2022), Year(2023)}))
    assert [p.month for p in plan_months(Request(None), archived, Month(2024, 5), Month(2021, 1), 2, NOW, YEARLY)] == [Year(2024)]


def test_event_months_become_their_years() -> None:
    request = Request((Month(2023, 11), Month(2023, 12), Month(2024, 1)), True)
    assert plan_months(request, ArchiveState(), Month(2024, 5), Month(2018, 1), 2, NOW, YEARLY) == [
        PlannedMonth(Year(2023), True),
        PlannedMonth(Year(2024), True),
    ]


def test_a_monthly_type_plans_like_sales() -> None:
    state = ArchiveState(archived=frozenset(Month(2024, m) for m in range(1, 6)), not_found=frozenset({Month(2023, 12)}))
    planned = plan_months(Request(None), state, Month(2024, 5), Month(2023, 12), 1, None, EARNINGS)
    assert planned == plan_months(Request(None), state, Month(2024, 5), Month(2023, 12), 1)


def test_the_yearly_store_reads_years_and_the_unsupported_marker(aws: Clients) -> None:
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", YEARLY)
    aws.s3.put_object(Bucket=BUCKET, Key=YEARLY.raw_prefix("appstore/", Year(2023)) + "earnings_2023.zip", Body=b"x")
    aws.s3.put_object(Bucket=BUCKET, Key="appstore/raw/earnings/year=2024/month=01/e.csv.gz", Body=b"x")  # another type's
    store.set_marker(Year(2022), "not_found")
    store.set_marker(Year(2021), "deferred", force=True)
    aws.s3.put_object(Bucket=BUCKET, Key="appstore/state/earnings_yearly/not_found/2020-01.json", Body=b"{}")  # not a year
    assert store.state().unsupported is None
    store.set_unsupported()
    state = store.state()
    assert state.archived == {Year(2023)} and state.not_found == {Year(2022)} and state.deferred == {Year(2021): True}
    assert state.unsupported is not None
    store.clear_unsupported()
    assert store.state().unsupported is None


def test_a_refused_type_is_asked_again_after_a_week() -> None:
    assert not still_refused(ArchiveState(), NOW)
    assert still_refused(ArchiveState(unsupported=NOW - timedelta(days=6, hours=23)), NOW)
    assert not still_refused(ArchiveState(unsupported=NOW - timedelta(days=7)), NOW)


def test_a_refused_type_has_one_result_naming_when_it_is_asked_again() -> None:
    store = ArchiveStore(None, BUCKET, "p/", "subscription")  # type: ignore[arg-type]
    result = skipped(store, ArchiveState(unsupported=NOW), [PlannedMonth(Month(2024, 5), False), PlannedMonth(Month(2024, 4), False)], NOW)
    assert (result.report, result.month, result.status) == ("subscription", "2024-05", "unsupported")
    assert result.error is not None and "asked again after 2024-05-17" in result.error
    later = datetime(2024, 7, 2, tzinfo=UTC)
    assert skipped(store, ArchiveState(unsupported=NOW), [], later).month == "2024-07"  # nothing planned: the current period
    assert skipped(ArchiveStore(None, BUCKET, "p/", YEARLY), ArchiveState(unsupported=NOW), [], later).month == "2024"  # type: ignore[arg-type]


def answer(status: int, text: str) -> requests.Response:
    """A report-link response."""
    response = requests.Response()
    response.status_code, response._content = status, text.encode()
    return response


@pytest.mark.parametrize(
    ("status", "text"),
    [(400, "Unable to fetch the request scope for uri = /x"), (400, "Report type is not supported"), (404, "unsupported report")],
)
def test_answers_saying_the_type_is_unknown(status: int, text: str) -> None:
    with pytest.raises(ReportUnsupported, match="does not know report type 'subscription'"):
        _link_from(answer(status, text), "subscription", Month(2024, 3))


def test_other_refusals_are_not_unsupported() -> None:
    assert _link_from(answer(400, "Report not found"), "earnings", Year(2024)) is None
    for status, text in ((500, "not supported"), (403, "Forbidden"), (404, "Not Found")):
        with pytest.raises(AppstoreError) as caught:
            _link_from(answer(status, text), "earnings", Month(2024, 3))
        assert not isinstance(caught.value, ReportUnsupported)


@pytest.mark.parametrize("lookback", [1, 2, 3])
def test_last_years_file_is_fetched_until_the_end_of_march(lookback: int) -> None:
    archived = ArchiveState(archived=frozenset({Year(2023), Year(2024)}))  # 2024 archived in January, before December's earnings

    def planned(current: Month) -> list[Year | Month]:
        return [p.month for p in plan_months(Request(None), archived, current, Month(2023, 1), lookback, NOW, YEARLY)]

    for month in (1, 2, 3):  # December's earnings come ~30 days after month end; payment status and dates later still
        assert planned(Month(2025, month)) == [Year(2025), Year(2024)]
    assert planned(Month(2025, 4)) == [Year(2025)]
    assert planned(Month(2024, 12)) == [Year(2024)]
