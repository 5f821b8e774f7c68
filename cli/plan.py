"""The event a run is started with, validated by the function's own parser, and the periods it will process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from archiver.core.months import Month
from archiver.core.report_types import DEFAULT_REPORTS, ReportsError, ReportType, parse_reports
from archiver.core.settings import ConfigError, Settings
from archiver.run.plan import FIRST_MONTH, InvalidEvent, parse_event, plan_months
from archiver.storage.store import ArchiveState, ArchiveStore
from cli.target import Target


class EventError(ValueError):
    """The flags do not make a valid event."""


def build_event(
    months: tuple[str, ...] = (), first: str | None = None, last: str | None = None, force: bool = False, reports: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The invocation event for the flags: explicit months, a range, or {} for the default plan; of some report types only."""
    if months and (first or last):
        raise EventError("give either --months or --from/--to, not both")
    event: dict[str, Any] = {}
    if months:
        event["months"] = [m.strip() for text in months for m in text.split(",") if m.strip()]
    if first:
        event["from"] = first
    if last:
        event["to"] = last
    if force:
        event["force"] = True
    if reports:
        event["reports"] = list(reports)
    validate(event)
    return event


def validate(event: dict[str, Any], now: datetime | None = None) -> None:
    """Check the event exactly as the function will, before anything is invoked."""
    try:
        parse_event(event, Month.of(now or datetime.now(UTC)))
    except InvalidEvent as exc:
        raise EventError(str(exc)) from None


def _reports(env: dict[str, str]) -> tuple[ReportType, ...]:
    """The report types the function runs (its REPORTS)."""
    try:
        return parse_reports(env.get("REPORTS", DEFAULT_REPORTS))
    except ReportsError as exc:
        raise EventError(f"the function's settings: {exc}") from None


def planned_months(target: Target, event: dict[str, Any], now: datetime | None = None) -> list[tuple[str, str]]:
    """What the run will process, as (report type, period): the event's months (a yearly type: their years) or repair
    pairs, or the default plan of each type from the archive's state and the function's settings."""
    moment = now or datetime.now(UTC)
    current = Month.of(moment)
    request = parse_event(event, current)
    env = target.environment()
    reports = tuple(r for r in _reports(env) if request.reports is None or r.name in request.reports)
    if request.months is not None or request.repair is not None:  # the event names the periods
        return [(r.name, str(p.month)) for r in reports for p in plan_months(request, ArchiveState(), current, FIRST_MONTH, 0, report=r)]
    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        raise EventError(f"the function's settings: {exc}") from None
    planned: list[tuple[str, str]] = []
    for report in reports:
        state = ArchiveStore(target.s3(), target.bucket, target.prefix, report).state()
        found = plan_months(request, state, current, settings.start_month, settings.lookback_months, moment, report)
        planned += [(report.name, str(p.month)) for p in found]
    return planned
