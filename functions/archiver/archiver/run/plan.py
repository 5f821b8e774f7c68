"""Turn an invocation event and the archive's state into the ordered months to fetch."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from archiver.core.months import Month
from archiver.core.periods import Period, PlannedMonth, between
from archiver.core.report_types import BY_NAME, SALES, ReportType
from archiver.storage.store import ArchiveState

FIRST_MONTH = Month(2018, 1)  # Transactional reports exist from January 2018.
MANUAL_KEYS = frozenset({"months", "from", "to", "force", "reports", "repair"})
# Each default run asks again the ceil(n/RECHECK_DAYS) not-found markers asked longest ago (and at least
# RECHECK_MIN_AGE ago), so with a daily schedule every month marked "not found" is asked at least once a week.
RECHECK_DAYS = 7
RECHECK_MIN_AGE = timedelta(hours=20)
# A yearly file is fetched again until the end of March of the next year, whatever LOOKBACK_MONTHS: December's
# earnings are generated about 30 days after month end, and payment status and dates change later still.
YEARLY_LOOKBACK_MONTHS = 3


class InvalidEvent(ValueError):
    """The invocation event is malformed; nothing has been done."""


@dataclass(frozen=True)
class Request:
    """What an event asks for: explicit months, or None for the default plan; of the named report types, or None for all."""

    months: tuple[Month, ...] | None
    force: bool = False
    reports: tuple[str, ...] | None = None
    repair: tuple[tuple[str, Period], ...] | None = None  # exact (report type, period) pairs to put right


def _is_scheduled(event: Mapping[str, object]) -> bool:
    """True for an EventBridge rule or Scheduler payload."""
    return event.get("source") in {"aws.events", "aws.scheduler"} or "detail-type" in event


def _month(value: object, key: str, current: Month) -> Month:
    """Parse one month of the event and check it is within the reports' range."""
    try:
        month = Month.parse(value)
    except ValueError as exc:
        raise InvalidEvent(f"{key}: {exc}") from None
    if month < FIRST_MONTH:
        raise InvalidEvent(f"{key}: month {month} is before {FIRST_MONTH}, the first month with reports")
    if month > current:
        raise InvalidEvent(f"{key}: month {month} is in the future (current UTC month is {current})")
    return month


def _reports(value: object) -> tuple[str, ...]:
    """The event's report types: a non-empty list of known names."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidEvent(f"reports must be a non-empty list of report type names, got {value!r}")
    if unknown := sorted(set(value) - set(BY_NAME)):
        raise InvalidEvent(f"reports: unknown report type(s) {unknown}; known: {list(BY_NAME)}")
    return tuple(dict.fromkeys(value))


def _repair(value: object, current: Month) -> Request:
    """A `repair` event: a non-empty list of {"report", "period"}, each period within its type's range; never forced."""
    if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) and set(v) == {"report", "period"} for v in value):
        raise InvalidEvent(f"repair must be a non-empty list of {{'report': ..., 'period': ...}}, got {value!r}")
    pairs: dict[tuple[str, Period], None] = {}
    for item in value:
        if not isinstance(item["report"], str) or item["report"] not in BY_NAME:
            raise InvalidEvent(f"repair: unknown report type {item['report']!r}; known: {list(BY_NAME)}")
        report = BY_NAME[item["report"]]
        try:
            period = report.parse_period(item["period"])
        except ValueError as exc:
            raise InvalidEvent(f"repair: {report.name}: {exc}") from None
        if not report.first <= period <= report.period_of(current):  # type: ignore[operator]
            raise InvalidEvent(f"repair: {report.name} {period} is before {report.first} or in the future")
        pairs[(report.name, period)] = None
    return Request(None, False, tuple(dict.fromkeys(r for r, _ in pairs)), tuple(pairs))


def parse_event(event: object, current: Month) -> Request:
    """Validate an event before any side effect; the error names the offending value."""
    if event is None:
        return Request(None)
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"event must be a JSON object, got {type(event).__name__}")
    if _is_scheduled(event):
        return Request(None)
    unknown = sorted(set(event) - MANUAL_KEYS)
    if unknown:
        raise InvalidEvent(f"unknown event key(s) {unknown}; allowed: {sorted(MANUAL_KEYS)}")
    if "repair" in event:
        if others := sorted(set(event) - {"repair"}):
            raise InvalidEvent(f"repair names its report types and periods and is never forced: give it without {others}")
        return _repair(event["repair"], current)
    force = event.get("force", False)
    if not isinstance(force, bool):
        raise InvalidEvent(f"force must be true or false, got {force!r}")
    reports = _reports(event["reports"]) if "reports" in event else None
    if "months" in event:
        if "from" in event or "to" in event:
            raise InvalidEvent("give either 'months' or 'from'/'to', not both")
        values = event["months"]
        if not isinstance(values, list) or not values:
            raise InvalidEvent(f"months must be a non-empty list of 'YYYY-MM', got {values!r}")
        return Request(tuple(sorted({_month(v, "months", current) for v in values})), force, reports)
    if "to" in event and "from" not in event:
        raise InvalidEvent("'to' needs 'from'")
    if "from" in event:
        first = _month(event["from"], "from", current)
        last = _month(event["to"], "to", current) if "to" in event else current
        if first > last:
            raise InvalidEvent(f"from {first} is after to {last}")
        return Request(tuple(first.through(last)), force, reports)
    return Request(None, force, reports)


def plan_months(
    request: Request,
    state: ArchiveState,
    current: Month,
    start: Month,
    lookback: int,
    now: datetime | None = None,
    report: ReportType = SALES,
) -> list[PlannedMonth]:
    """Order the periods to fetch: pending and deferred first, then the lookback window, the backfill, the re-checks.

    Months (the event's, the current one, the start, the lookback window) become the report type's periods: for a
    yearly type, the years they fall in, its window reaching at least YEARLY_LOOKBACK_MONTHS back.
    """
    if request.repair is not None:
        return [PlannedMonth(p, False, repair=True) for name, p in request.repair if name == report.name]
    if request.months is not None:
        return [PlannedMonth(p, request.force) for p in dict.fromkeys(report.period_of(m) for m in request.months)]
    first, last = max(report.period_of(start), report.first), report.period_of(current)
    reach = lookback if report.period == "month" else max(lookback, YEARLY_LOOKBACK_MONTHS)
    window = [p for p in dict.fromkeys(report.period_of(current.shift(-k)) for k in range(reach + 1)) if p >= first]  # type: ignore[operator]
    backfill = (p for p in between(first, last) if p not in state.archived and p not in state.not_found)
    planned: dict[Period, bool] = {}
    for period in sorted(p for p in state.pending if first <= p <= last):  # type: ignore[operator]
        planned[period] = request.force
    for period in sorted(p for p in state.deferred if first <= p <= last):  # type: ignore[operator]
        planned[period] = state.deferred[period] or request.force or planned.get(period, False)
    for period in chain(window, backfill):
        planned.setdefault(period, request.force)
    due = recheck_months(state, now, lambda p: p not in planned and first <= p <= last) if now is not None else []  # type: ignore[operator]
    return [PlannedMonth(p, force) for p, force in planned.items()] + [PlannedMonth(p, request.force, recheck=True) for p in due]


def recheck_months(state: ArchiveState, now: datetime, eligible: Callable[[Period], bool] = lambda p: True) -> list[Period]:
    """The ceil(n/7) eligible not-found periods answered longest ago (only those answered at least 20 h ago), oldest first."""
    due = sorted((at, p) for p, at in state.checked.items() if p in state.not_found and at <= now - RECHECK_MIN_AGE and eligible(p))
    return [p for _, p in due[: math.ceil(len(state.not_found) / RECHECK_DAYS)]]
