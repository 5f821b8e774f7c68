"""What every run does before its months: settle transactions left pending, re-make lost curated objects, register partitions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from aws_lambda_powertools import Logger

from archiver.core.periods import Period, PlannedMonth
from archiver.core.results import MonthResult
from archiver.storage.catalog import Catalog
from archiver.storage.converge import converge
from archiver.storage.store import ArchiveStore
from archiver.storage.transaction import Superseded, Unconverged, Unfinished, recover

logger = Logger(child=True)
SETTLING = "a pending transaction"  # how the error of every result of settling begins


@dataclass(frozen=True)
class Partitions:
    """A type's Glue partitions as the run found them, and the periods whose partition the run has put right since."""

    store: ArchiveStore
    catalog: Catalog[tuple[str, ...]]
    found: Mapping[tuple[str, ...], str]  # values -> location when the run started ({} when they could not be read)
    registered: set[Period] = field(default_factory=set)

    def register(self, month: Period) -> str:
        """Make sure the period's partition is at its location, calling Glue only when the run's listing says otherwise."""
        values, location = self.store.report.partition_values(month), self.store.location(month)
        if self.found.get(values) == location or month in self.registered:
            return "unchanged"
        outcome = self.catalog.ensure_partition(list(values), location)
        self.registered.add(month)
        return outcome


def settle_pending(
    store: ArchiveStore,
    pending: Iterable[Period],
    planned: list[PlannedMonth],
    register: Callable[[Period], str],
    markers: Callable[[Period], list[str]],
    max_bytes: int | None = None,
    guard: Callable[[], object] = lambda: None,
) -> tuple[list[PlannedMonth], list[MonthResult], Superseded]:
    """Roll back or forward each transaction a killed or failed run left (forward re-curates from the raw object if need be).

    Returns the plan; a result for each month not settled: `failed` if its commit point is unknown (dropped from this
    plan, so no new transaction starts over it), `archived` with an error past it (kept; a new transaction on the
    month supersedes the markers also returned). A rollback whose pair could not be re-made from the raw object is
    logged, and the month planned, so Amazon's bytes mend it. `guard` runs before each (the lease's renewal).
    """
    results: list[MonthResult] = []
    superseded: Superseded = {}
    for month in sorted(pending):
        guard()
        try:
            outcome = recover(store, month, register, markers(month), max_bytes)
        except Unconverged as exc:  # its markers are cleared: fetching the month makes a new pair (the empty-report guard holds)
            logger.warning(f"{store.report.name} {month}: {SETTLING} {exc}; the month is fetched again", extra={"month": str(month)})
            if all(item.month != month for item in planned):
                planned = [*planned, PlannedMonth(month, False)]
            continue
        except Unfinished as exc:
            error = f"{SETTLING} past its commit point could not be finished: {exc}"
            results.append(MonthResult(store.report.name, str(month), "archived", error=error))
            superseded[month] = exc.markers
            continue
        except Exception as exc:
            error = f"{SETTLING} could not be settled: {type(exc).__name__}: {exc}"
            results.append(MonthResult(store.report.name, str(month), "failed", error=error))
            planned = [item for item in planned if item.month != month]
            continue
        logger.info(f"{store.report.name} {month}: pending transaction {outcome}", extra={"month": str(month), "transaction": outcome})
    return planned, results, superseded


def recurate_lost(
    store: ArchiveStore,
    archived: Iterable[Period],
    pending: Iterable[Period],
    fetched: Iterable[Period],
    max_bytes: int | None,
    guard: Callable[[], object] = lambda: None,
) -> list[MonthResult]:
    """Re-curate from its raw object (no request to Amazon) each archived period whose curated object is gone; failures as results.

    One listing of the table finds them (a key with no version, or a delete marker on top): the lifecycle never expires
    a current curated object, so only a lost one is looked for. Periods left pending are skipped (their outcome is
    unknown); a period fetched this run reports no failure here, as its own transaction writes the pair again. `guard` runs before
    each (the lease's renewal).
    """
    try:
        present, skip, planned = set(store.keys(store.report.table_prefix(store.prefix))), set(pending), set(fetched)
    except Exception as exc:  # nothing is changed: the next run looks again
        logger.warning(f"{store.report.name}: the curated objects could not be listed: {type(exc).__name__}: {exc}")
        return []
    failed: list[MonthResult] = []
    for month in sorted(m for m in archived if m not in skip and store.curated_key(m) not in present):
        extra = {"month": str(month)}
        guard()  # the lease's renewal: a lost lease stops the run before it writes
        try:
            converged = converge(store, month, max_bytes)
        except Exception as exc:
            error = f"the lost curated object could not be made again from the raw object: {type(exc).__name__}: {exc}"
            if month in planned:
                logger.warning(f"{store.report.name} {month}: {error}; the month is fetched again", extra=extra)
            else:
                failed.append(MonthResult(store.report.name, str(month), "failed", error=error))
            continue
        if converged:
            logger.info(f"{store.report.name} {month}: lost curated object re-curated from the raw object", extra=extra)
        else:  # several raw objects: `appstore-archive verify` names the month
            logger.warning(f"{store.report.name} {month}: curated object lost, and no one raw object to re-curate from", extra=extra)
    return failed


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


def with_repair(result: MonthResult, repair: MonthResult | None) -> list[MonthResult]:
    """A fetched month's result with its failed run-start partition repair (None: it did not fail).

    Dropped when the month's own step registers the partition again (`archived`, `unchanged`: their results carry
    any error); added to the error of a `failed` month; otherwise (not found, deferred) reported after it.
    """
    if repair is None or result.status in ("archived", "unchanged"):
        return [result]
    if result.status == "failed":
        return [replace(result, error=f"{result.error}; {repair.error}")]
    return [result, repair]
