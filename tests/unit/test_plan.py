"""Event validation and month planning."""

from __future__ import annotations

import pytest

from archiver.core.months import Month
from archiver.core.periods import PlannedMonth, Year
from archiver.core.report_types import BY_NAME, SALES
from archiver.run.plan import InvalidEvent, Request, parse_event, plan_months
from archiver.storage.store import ArchiveState

NOW = Month(2024, 5)


def test_month_parse_and_arithmetic() -> None:
    assert str(Month.parse("2024-03")) == "2024-03"
    assert Month(2024, 1).shift(-1) == Month(2023, 12)
    assert Month(2023, 12).shift(1) == Month(2024, 1)
    assert list(Month(2023, 11).through(Month(2024, 2))) == [Month(2023, 11), Month(2023, 12), Month(2024, 1), Month(2024, 2)]
    for bad in ("2024-3", "2024-13", "2024/03", 202403, None, "2024-00"):
        with pytest.raises(ValueError, match="invalid month"):
            Month.parse(bad)


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {"source": "aws.scheduler"},
    ],
)
def test_scheduled_and_empty_events_use_the_default_plan(event: object) -> None:
    assert parse_event(event, NOW) == Request(None)


def test_manual_events() -> None:
    assert parse_event({"months": ["2024-03", "2018-01", "2024-03"]}, NOW) == Request((Month(2018, 1), Month(2024, 3)))
    assert parse_event({"from": "2023-11", "to": "2024-01", "force": True}, NOW) == Request(
        (Month(2023, 11), Month(2023, 12), Month(2024, 1)), True
    )
    assert parse_event({"from": "2024-04"}, NOW).months == (Month(2024, 4), Month(2024, 5))
    assert parse_event({"force": True}, NOW) == Request(None, True)
    event = {"months": ["2024-01"], "force": True, "reports": ["sales", "sales"]}
    assert parse_event(event, NOW) == Request((Month(2024, 1),), True, ("sales",))
    assert parse_event({"reports": ["earnings_yearly"]}, NOW) == Request(None, False, ("earnings_yearly",))


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"months": ["2024-3"]}, "'2024-3'"),
        ({"months": ["2017-12"]}, "2017-12 is before 2018-01"),
        ({"months": ["2024-06"]}, "2024-06 is in the future"),
        ({"from": "2024-02", "to": "2024-01"}, "from 2024-02 is after to 2024-01"),
        ({"from": "2024-01", "to": "2099-01"}, "2099-01 is in the future"),
        ({"month": ["2024-01"]}, "unknown event key(s) ['month']"),
        ({"months": []}, "non-empty list"),
        ({"months": "2024-01"}, "non-empty list"),
        ({"to": "2024-01"}, "'to' needs 'from'"),
        ({"months": ["2024-01"], "from": "2024-01"}, "not both"),
        ({"force": "yes"}, "force must be true or false"),
        ({"reports": []}, "reports must be a non-empty list"),
        ({"reports": "sales"}, "reports must be a non-empty list"),
        ({"reports": ["sales", "refunds"]}, "unknown report type(s) ['refunds']"),
        ([1, 2], "JSON object"),
        ({"repair": []}, "repair must be a non-empty list"),
        ({"repair": [{"report": "sales"}]}, "repair must be a non-empty list"),
        ({"repair": [{"report": "refunds", "period": "2024-01"}]}, "unknown report type 'refunds'"),
        ({"repair": [{"report": "earnings_yearly", "period": "2024-01"}]}, "invalid year '2024-01'"),
        ({"repair": [{"report": "sales", "period": "2024-06"}]}, "sales 2024-06 is before 2018-01 or in the future"),
        ({"repair": [{"report": "sales", "period": "2024-01"}], "force": True}, "never forced: give it without ['force']"),
        ({"repair": [{"report": "sales", "period": "2024-01"}], "months": ["2024-01"]}, "give it without ['months']"),
    ],
)
def test_invalid_events_name_the_offending_value(event: object, message: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event, NOW)
    assert message in str(caught.value)


def test_a_repair_event_plans_exactly_its_pairs_unforced() -> None:
    pairs = [
        {"report": "sales", "period": "2024-02"},
        {"report": "earnings_yearly", "period": "2023"},
        {"report": "sales", "period": "2024-02"},
    ]
    request = parse_event({"repair": pairs}, NOW)
    assert request == Request(None, False, ("sales", "earnings_yearly"), (("sales", Month(2024, 2)), ("earnings_yearly", Year(2023))))
    state = ArchiveState(pending=frozenset({Month(2024, 1)}), deferred={Month(2024, 3): True})  # not planned: only the pairs
    assert plan_months(request, state, NOW, Month(2018, 1), 2, report=SALES) == [PlannedMonth(Month(2024, 2), False, repair=True)]
    assert plan_months(request, state, NOW, Month(2018, 1), 2, report=BY_NAME["earnings_yearly"]) == [
        PlannedMonth(Year(2023), False, repair=True)
    ]
    assert plan_months(request, state, NOW, Month(2018, 1), 2, report=BY_NAME["earnings"]) == []


def test_default_plan_backfills_then_only_the_lookback_window() -> None:
    first = plan_months(Request(None), ArchiveState(), NOW, Month(2018, 1), 2)
    months = [p.month for p in first]
    assert months[:3] == [Month(2024, 5), Month(2024, 4), Month(2024, 3)]
    assert sorted(months) == list(Month(2018, 1).through(NOW))
    archived = frozenset(Month(2018, 1).through(NOW)) - {Month(2019, 7)}
    state = ArchiveState(archived=archived, not_found=frozenset({Month(2019, 7)}))
    assert [p.month for p in plan_months(Request(None), state, NOW, Month(2018, 1), 2)] == [Month(2024, 5), Month(2024, 4), Month(2024, 3)]


def test_not_found_months_are_asked_again_inside_the_lookback_window() -> None:
    state = ArchiveState(archived=frozenset(Month(2018, 1).through(Month(2024, 3))), not_found=frozenset({Month(2024, 4), Month(2024, 5)}))
    assert {p.month for p in plan_months(Request(None), state, NOW, Month(2018, 1), 2)} == {Month(2024, 3), Month(2024, 4), Month(2024, 5)}


def test_deferred_months_come_first_and_keep_their_force_flag() -> None:
    archived = frozenset(Month(2018, 1).through(NOW)) - {Month(2020, 2)}
    state = ArchiveState(archived=archived, deferred={Month(2020, 2): False, Month(2019, 1): True})
    planned = plan_months(Request(None), state, NOW, Month(2018, 1), 1)
    assert planned == [
        PlannedMonth(Month(2019, 1), True),
        PlannedMonth(Month(2020, 2), False),
        PlannedMonth(Month(2024, 5), False),
        PlannedMonth(Month(2024, 4), False),
    ]


def test_start_month_and_zero_lookback() -> None:
    state = ArchiveState(archived=frozenset(Month(2023, 1).through(NOW)))
    assert plan_months(Request(None), state, NOW, Month(2023, 1), 0) == [PlannedMonth(NOW, False)]
    assert plan_months(Request((Month(2019, 1),), True), state, NOW, Month(2023, 1), 0) == [PlannedMonth(Month(2019, 1), True)]
