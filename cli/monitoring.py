"""The stack's monitoring as `status` shows it: the last successful run (metric) and the alarms in ALARM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


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
