"""The event a run is started with, validated by the function's own parser, and the months it will process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from archiver.months import Month
from archiver.plan import InvalidEvent, parse_event, plan_months
from archiver.settings import ConfigError, Settings
from archiver.store import ArchiveStore
from cli.target import Target


class EventError(ValueError):
    """The flags do not make a valid event."""


def build_event(months: tuple[str, ...] = (), first: str | None = None, last: str | None = None, force: bool = False) -> dict[str, Any]:
    """The invocation event for the flags: explicit months, a range, or {} for the default plan."""
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
    validate(event)
    return event


def validate(event: dict[str, Any], now: datetime | None = None) -> None:
    """Check the event exactly as the function will, before anything is invoked."""
    try:
        parse_event(event, Month.of(now or datetime.now(UTC)))
    except InvalidEvent as exc:
        raise EventError(str(exc)) from None


def planned_months(target: Target, event: dict[str, Any], now: datetime | None = None) -> list[str]:
    """The months the run will process: the event's, or the default plan from the archive's state and the function's settings."""
    current = Month.of(now or datetime.now(UTC))
    request = parse_event(event, current)
    if request.months is not None:
        return [str(m) for m in request.months]
    try:
        settings = Settings.from_env(target.environment())
    except ConfigError as exc:
        raise EventError(f"the function's settings: {exc}") from None
    state = ArchiveStore(target.s3(), target.bucket, target.prefix).state()
    planned = plan_months(request, state, current, settings.start_month, settings.lookback_months)
    return [str(p.month) for p in planned]
