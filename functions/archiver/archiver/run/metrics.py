"""A run's telemetry: one log line per month, and the CloudWatch metrics (EMF) the alarms and dashboard read."""

from __future__ import annotations

from dataclasses import asdict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from archiver.core.results import MonthResult, incomplete

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
