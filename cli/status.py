"""`status`: each report type's periods and states, the archived periods' figures, the last successful run, alarms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archiver.answers.completeness import period_rows, store_status
from archiver.answers.periods_table import decode, read_body
from archiver.core.months import Month
from archiver.core.periods import Period, between
from archiver.core.report_types import ReportType
from archiver.core.settings import DEFAULTS
from archiver.run.plan import FIRST_MONTH
from archiver.run.unsupported import ASK_AGAIN_AFTER
from cli.inventory import MonthRecord, ReportArchive, read_archive
from cli.monitoring import alarms_firing, last_success
from cli.target import Target

STATES = ("archived", "not_found", "deferred", "pending", "quarantined", "missing", "not_planned")


@dataclass(frozen=True)
class MonthStatus:
    """One period's state (`month` is YYYY-MM, or YYYY for a yearly type) and, when archived, its figures."""

    month: str
    state: str
    rows: int | None = None
    bytes: int | None = None
    archived_at: str | None = None
    guesses: int | None = None  # doubtful decisions reading a schema-free file (curated `guesses` metadata)


def state_of(record: MonthRecord) -> str:
    """The period's state as the periods table judges the bucket (completeness.store_status).

    `missing` when it holds nothing, or only a raw copy without its curated copy (the table's `failed`: not queryable).
    """
    raw_time = max((i.modified for i in record.raw), default=None)
    quarantined = max((i.modified for i in record.quarantine), default=None)
    state = store_status(record.markers, raw_time, quarantined, record.curated is not None)
    return "missing" if state in (None, "failed") else state


def month_status(record: MonthRecord, planned_from: Period) -> MonthStatus:
    """A period's state with the figures its objects' metadata record.

    Only a period the function's default plan fetches (from START_MONTH on) can be missing; one before it that holds
    nothing was never asked for: `not_planned`.
    """
    state = state_of(record)
    if state == "missing" and record.month < planned_from:  # type: ignore[operator]
        state = "not_planned"
    if not record.raw:
        return MonthStatus(str(record.month), state)
    raw = max(record.raw, key=lambda item: item.modified)
    rows = record.curated.metadata.get("rows") if record.curated else None
    guesses = record.curated.metadata.get("guesses") if record.curated else None
    return MonthStatus(
        str(record.month),
        state,
        int(rows) if rows and rows.isdigit() else None,
        raw.size,
        raw.modified.astimezone(UTC).isoformat(),
        int(guesses) if guesses and guesses.isdigit() else None,
    )


def start_month(env: dict[str, str]) -> Month:
    """START_MONTH (the function's default when unset or invalid), never before the first month with reports."""
    try:
        return max(Month.parse(env.get("START_MONTH", DEFAULTS["START_MONTH"]).strip()), FIRST_MONTH)
    except ValueError:
        return FIRST_MONTH


def planned_from(report: ReportType, start: Month) -> Period:
    """The type's first period the default plan fetches: its period of START_MONTH, not before its first."""
    return max(report.period_of(start), report.first)


def first_period(report: ReportType, start: Month, part: ReportArchive) -> Period:
    """Where the type's calendar starts: the default plan's first period, or the earliest the archive holds."""
    return min([planned_from(report, start), *part.months])


def calendar(part: ReportArchive, first: Period, last: Period, start: Month) -> list[MonthStatus]:
    """Every period from `first` to `last` with its state."""
    planned = planned_from(part.report, start)
    return [month_status(part.record(p), planned) for p in between(first, last)]


def unsupported_note(part: ReportArchive) -> dict[str, str] | None:
    """When the API last refused the type as unknown, and when a run asks again; None without a marker."""
    if part.unsupported is None:
        return None
    since = part.unsupported.modified.astimezone(UTC)
    return {"since": since.isoformat(), "asked_again_after": (since + ASK_AGAIN_AFTER).isoformat()}


def report_status(part: ReportArchive, target: Target, start: Month, now: datetime) -> dict[str, Any]:
    """One report type's section of the status document."""
    report = part.report
    periods = calendar(part, first_period(report, start, part), report.period_of(Month.of(now)), start)
    recorded = read_body(part.store)  # the failures and errors the function's runs recorded
    rows = period_rows(part.store, start, Month.of(now), previous=decode(recorded) if recorded else None)
    return {
        "period": report.period,
        "table": f"{target.database}.{part.table.name}",
        "table_error": part.table.error,
        "unsupported": unsupported_note(part),
        "counts": {state: sum(1 for m in periods if m.state == state) for state in STATES},
        "months": [m.__dict__ for m in periods],
        "periods": [row.record() for row in rows],  # the periods table's rows, from the bucket as it is now
    }


def collect(target: Target, reports: tuple[ReportType, ...], now: datetime | None = None) -> dict[str, Any]:
    """Everything `status` shows, as plain data (the `--json` document), keyed by report type."""
    moment = now or datetime.now(UTC)
    env = target.environment()
    archive = read_archive(target, reports)
    start = start_month(env)
    document: dict[str, Any] = {
        "target": target.label,
        "archive": f"s3://{target.bucket}/{target.prefix}",
        "reports": {name: report_status(part, target, start, moment) for name, part in archive.reports.items()},
    }
    if not target.local and target.stack:
        cloudwatch = target.cloudwatch()
        document["last_successful_run"] = last_success(cloudwatch, env, moment)
        document["alarms"] = alarms_firing(cloudwatch, target.stack)
    return document
