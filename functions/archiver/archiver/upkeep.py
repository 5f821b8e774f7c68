"""What every run does before its months: settle transactions left pending, register missing partitions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aws_lambda_powertools import Logger

from archiver.periods import Period
from archiver.plan import PlannedMonth
from archiver.report import MonthResult
from archiver.store import ArchiveStore
from archiver.transaction import recover

logger = Logger(child=True)


def settle_pending(
    store: ArchiveStore,
    pending: Iterable[Period],
    planned: list[PlannedMonth],
    register: Callable[[Period], str],
    markers: Callable[[Period], list[str]],
) -> tuple[list[PlannedMonth], list[MonthResult], dict[Period, str | None]]:
    """Roll back or forward each transaction a killed or failed run left; a month to fetch again is planned first.

    Returns the plan, a failed result for each month that could not be settled (left to the next run, dropped
    from this plan), and the pending marker each re-planned month's new transaction replaces.
    """
    failed: list[MonthResult] = []
    stale: dict[Period, str | None] = {}
    for month in sorted(pending):
        try:
            outcome, marker = recover(store, month, register, markers(month))
        except Exception as exc:
            error = f"a pending transaction could not be settled: {type(exc).__name__}: {exc}"
            failed.append(MonthResult(store.report.name, str(month), "failed", error=error))
            planned = [item for item in planned if item.month != month]
            continue
        logger.info(f"{store.report.name} {month}: pending transaction {outcome}", extra={"month": str(month), "transaction": outcome})
        if outcome == "refetch":
            stale[month] = marker
            if month not in {item.month for item in planned}:
                planned = [PlannedMonth(month, False), *planned]
    return planned, failed, stale


def repair_partitions(store: ArchiveStore, months: Iterable[Period], register: Callable[[Period], str]) -> list[MonthResult]:
    """Register each given month whose partition is missing or elsewhere; failures as results."""
    failed: list[MonthResult] = []
    for month in sorted(months):
        try:
            outcome = register(month)
        except Exception as exc:
            error = f"partition could not be registered: {type(exc).__name__}: {exc}"
            failed.append(MonthResult(store.report.name, str(month), "failed", error=error))
            continue
        if outcome != "unchanged":
            location = store.location(month)
            extra = {"month": str(month), "partition": outcome, "location": location}
            logger.info(f"{store.report.name} {month}: partition {outcome}", extra=extra)
    return failed
