"""The run's result: per-month outcomes, the return value, log lines and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

STATUSES = ("archived", "unchanged", "not_found", "failed", "deferred", "unsupported")
STATUS_METRICS = {
    "archived": "MonthsArchived",
    "unchanged": "MonthsUnchanged",
    "not_found": "MonthsNotFound",
    "failed": "MonthsFailed",
    "deferred": "MonthsDeferred",
    "unsupported": "ReportsUnsupported",  # at most one per report type and run
}
# Every metric the function emits; alarms and the dashboard in template.yaml use these names.
METRIC_NAMES: tuple[str, ...] = (
    *STATUS_METRICS.values(),
    "BytesArchived",
    "RowsArchived",
    "SchemaDrift",
    "HeuristicGuesses",
    "MonthsIncomplete",
    "RunSucceeded",
    "RunBusy",  # another run held the archive's lease: no RunSucceeded, so a lasting busy still lets the staleness alarm fire
    "RunFailed",
)


@dataclass
class MonthResult:
    """What happened to one month of one report."""

    report: str
    month: str
    status: str
    raw_key: str | None = None
    curated_key: str | None = None
    bytes: int | None = None
    rows: int | None = None
    sha256: str | None = None
    error: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    guesses: int | None = None  # archived: the doubtful decisions made reading a schema-free file (archiver/formats/sections.py)
    guess_notes: list[str] = field(default_factory=list)  # the first few of them, described


class RunFailedError(RuntimeError):
    """At least one month failed or is incomplete; raised after every month was processed."""


def incomplete(result: MonthResult) -> bool:
    """Archived (its new objects in place), but a later step (old raw removal, partition, markers) failed."""
    return result.status in ("archived", "unchanged") and result.error is not None


def log_month(logger: Logger, result: MonthResult) -> None:
    """One structured log line per month with its status."""
    fields = {k: v for k, v in asdict(result).items() if v not in (None, [])}
    if result.status == "failed":
        logger.error(f"{result.report} {result.month}: failed", extra=fields)
    elif incomplete(result):
        logger.error(f"{result.report} {result.month}: {result.status}, incomplete; {result.error}", extra=fields)
    elif result.error:
        logger.warning(f"{result.report} {result.month}: {result.status}; {result.error}", extra=fields)
    elif result.unknown_columns:
        logger.warning(f"{result.report} {result.month}: {result.status} with schema drift", extra=fields)
    elif result.guesses:
        logger.warning(f"{result.report} {result.month}: {result.status} with {result.guesses} heuristic guess(es)", extra=fields)
    else:
        logger.info(f"{result.report} {result.month}: {result.status}", extra=fields)


def add_month_metrics(metrics: Metrics, result: MonthResult) -> None:
    """Count one finished month by status, and its bytes, rows, drift and heuristic guesses."""
    metrics.add_metric(name=STATUS_METRICS[result.status], unit=MetricUnit.Count, value=1)
    if result.status == "archived":
        metrics.add_metric(name="BytesArchived", unit=MetricUnit.Bytes, value=result.bytes or 0)
        metrics.add_metric(name="RowsArchived", unit=MetricUnit.Count, value=result.rows or 0)
    if result.unknown_columns:
        metrics.add_metric(name="SchemaDrift", unit=MetricUnit.Count, value=len(result.unknown_columns))
    if result.guesses:
        metrics.add_metric(name="HeuristicGuesses", unit=MetricUnit.Count, value=result.guesses)
    if incomplete(result):
        metrics.add_metric(name="MonthsIncomplete", unit=MetricUnit.Count, value=1)


def add_report_dimension(metrics: Metrics, result: MonthResult) -> None:
    """A second dimension set [service, report] on the month's record; the first, [service] alone, is the alarms'."""
    service = {"service": metrics.service} if metrics.service else {}
    metrics.add_dimensions(**service, report=result.report)


MONTH_METRICS = (*STATUS_METRICS.values(), "BytesArchived", "RowsArchived", "SchemaDrift", "HeuristicGuesses", "MonthsIncomplete")


def add_zero_metrics(metrics: Metrics) -> None:
    """A zero for every month metric: one data point each per run that reached its months."""
    for name in MONTH_METRICS:
        metrics.add_metric(name=name, unit=MetricUnit.Bytes if name == "BytesArchived" else MetricUnit.Count, value=0)


def add_run_metrics(metrics: Metrics, results: list[MonthResult]) -> None:
    """A zero for every month metric (one data point each per run), and whether the run succeeded or failed."""
    add_zero_metrics(metrics)
    failed = any(r.status == "failed" or incomplete(r) for r in results)
    metrics.add_metric(name="RunFailed" if failed else "RunSucceeded", unit=MetricUnit.Count, value=1)


def payload(results: list[MonthResult]) -> dict[str, Any]:
    """The handler's return value."""
    return {"results": [asdict(r) for r in results]}


def _named(result: MonthResult) -> str:
    """A result's period, with its report type unless it is sales (whose messages stay as they were)."""
    return result.month if result.report == "sales" else f"{result.report} {result.month}"


def failures(results: list[MonthResult]) -> list[str]:
    """What a run's error says of its months: every failed month, then every incomplete one (none: an empty list)."""
    failed = [r for r in results if r.status == "failed"]
    unfinished = [r for r in results if incomplete(r)]
    parts = [f"{len(failed)} month(s) failed: " + "; ".join(f"{_named(r)}: {r.error}" for r in failed)] if failed else []
    if unfinished:
        detail = "; ".join(f"{_named(r)}: {r.error}" for r in unfinished)
        parts.append(f"{len(unfinished)} month(s) archived but incomplete (the next run finishes them): {detail}")
    return parts


def raise_if_failed(results: list[MonthResult]) -> None:
    """Raise naming every failed or incomplete month, so the invocation counts as a Lambda error."""
    if parts := failures(results):
        raise RunFailedError("; ".join(parts))
