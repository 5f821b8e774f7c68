"""`status`: each month's state, the archived months' figures, the last successful run and the alarms firing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archiver.months import Month
from archiver.plan import FIRST_MONTH
from archiver.settings import DEFAULTS
from cli.archive import Archive, MonthRecord, read_archive
from cli.target import Target

STATES = ("archived", "not_found", "deferred", "pending", "quarantined", "missing")


@dataclass(frozen=True)
class MonthStatus:
    """One month's state and, when archived, its rows, bytes and last-archived time."""

    month: str
    state: str
    rows: int | None = None
    bytes: int | None = None
    archived_at: str | None = None


def state_of(record: MonthRecord) -> str:
    """The month's state: a pending or deferred marker or a newer quarantine wins over what is archived."""
    if "pending" in record.markers:
        return "pending"
    if "deferred" in record.markers:
        return "deferred"
    raw_time = max((i.modified for i in record.raw), default=None)
    if record.quarantine and (raw_time is None or max(i.modified for i in record.quarantine) > raw_time):
        return "quarantined"
    if record.raw:
        return "archived"
    if "not_found" in record.markers:
        return "not_found"
    return "missing"


def month_status(record: MonthRecord) -> MonthStatus:
    """A month's state with the figures its objects' metadata record."""
    state = state_of(record)
    if not record.raw:
        return MonthStatus(str(record.month), state)
    raw = max(record.raw, key=lambda item: item.modified)
    rows = record.curated.metadata.get("rows") if record.curated else None
    return MonthStatus(
        str(record.month), state, int(rows) if rows and rows.isdigit() else None, raw.size, raw.modified.astimezone(UTC).isoformat()
    )


def first_month(env: dict[str, str], archive: Archive) -> Month:
    """Where the calendar starts: START_MONTH, or the earliest month the archive knows."""
    try:
        start = max(Month.parse(env.get("START_MONTH", DEFAULTS["START_MONTH"]).strip()), FIRST_MONTH)
    except ValueError:
        start = FIRST_MONTH
    return min([start, *archive.months])


def calendar(archive: Archive, first: Month, last: Month) -> list[MonthStatus]:
    """Every month from `first` to `last` with its state."""
    return [month_status(archive.record(m)) for m in first.through(last)]


def last_success(cloudwatch: Any, env: dict[str, str], now: datetime, days: int = 14) -> str | None:
    """The start of the latest hour with a `RunSucceeded` data point in the last `days` days."""
    namespace = env.get("POWERTOOLS_METRICS_NAMESPACE", "AppstoreArchive")
    service = env.get("POWERTOOLS_SERVICE_NAME", "appstore-archiver")
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="RunSucceeded",
        Dimensions=[{"Name": "service", "Value": service}],
        StartTime=now - timedelta(days=days),
        EndTime=now,
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    times = [p["Timestamp"] for p in points if p.get("Sum", 0) > 0]
    return max(times).astimezone(UTC).isoformat() if times else None


def alarms_firing(cloudwatch: Any, stack: str) -> list[dict[str, str]]:
    """The stack's alarms (named `<stack>-…`) in state ALARM."""
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{stack}-", StateValue="ALARM")
    return [
        {"name": a["AlarmName"], "reason": a.get("StateReason", ""), "since": a["StateUpdatedTimestamp"].astimezone(UTC).isoformat()}
        for page in pages
        for a in page.get("MetricAlarms", [])
        if a.get("StateValue") == "ALARM"  # filtered here too: not every endpoint applies the filter with a prefix
    ]


def collect(target: Target, now: datetime | None = None) -> dict[str, Any]:
    """Everything `status` shows, as plain data (the `--json` document)."""
    moment = now or datetime.now(UTC)
    env = target.environment()
    archive = read_archive(target)
    months = calendar(archive, first_month(env, archive), Month.of(moment))
    counts = {state: sum(1 for m in months if m.state == state) for state in STATES}
    report: dict[str, Any] = {
        "target": target.label,
        "archive": f"s3://{target.bucket}/{target.prefix}",
        "table": f"{target.database}.{target.table}",
        "counts": counts,
        "months": [m.__dict__ for m in months],
    }
    if not target.local and target.stack:
        cloudwatch = target.cloudwatch()
        report["last_successful_run"] = last_success(cloudwatch, env, moment)
        report["alarms"] = alarms_firing(cloudwatch, target.stack)
    return report
