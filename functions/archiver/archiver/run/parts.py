"""One report type's share of a run: its state and plan, its Glue partitions, its pending transactions settled, its repairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archiver.core.months import Month
from archiver.core.periods import PlannedMonth
from archiver.core.report_types import ReportType
from archiver.core.results import MonthResult
from archiver.core.settings import Settings
from archiver.run.plan import Request, plan_months
from archiver.storage.catalog import Catalog
from archiver.storage.remake import from_raw
from archiver.storage.settle import Partitions, recurate_lost, settle_pending
from archiver.storage.store import ArchiveState, ArchiveStore
from archiver.storage.transaction import Superseded

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any


@dataclass(frozen=True)
class Part:
    """One report type's share of a run: its store, Glue partitions, state and plan, and why its Glue table could not be read."""

    store: ArchiveStore  # names the report type
    partitions: Partitions
    state: ArchiveState
    planned: list[PlannedMonth]
    broken: Exception | None = None  # set: only the type's pending transactions are settled this run


def prepare_part(
    report: ReportType, settings: Settings, s3: S3Client, glue: GlueClient, request: Request, current: Month, now: datetime
) -> Part:
    """Read the type's state and plan, then check its Glue table and read its partitions (no write); a Glue failure is kept, not raised."""
    store = ArchiveStore(s3, settings.bucket, settings.prefix, report, owner=settings.bucket_owner)
    state = store.state()
    planned = plan_months(request, state, current, settings.start_month, settings.lookback_months, now, report)
    catalog = Catalog(glue, settings.glue_database, report.table_name(settings.glue_table), report.partition_keys)
    try:
        catalog.descriptor()
        return Part(store, Partitions(store, catalog, catalog.partitions(as_table=True)), state, planned)
    except Exception as exc:  # registering a partition while settling asks Glue again (and fails the same way if it is gone)
        return Part(store, Partitions(store, catalog, {}), state, planned, exc)


def settle(
    part: Part, max_bytes: int | None, on_result: Callable[[MonthResult], None], guard: Callable[[], object] = lambda: None
) -> tuple[Part, list[MonthResult], Superseded]:
    """Settle the type's pending transactions and re-make its lost curated objects (no request to Amazon; `guard` before each).

    Returns its plan without the months left unknown, and a result for each month that could not be put right.
    """
    store, state, register = part.store, part.state, part.partitions.register
    planned, results, superseded = settle_pending(store, state.pending, part.planned, register, state.markers, max_bytes, guard)
    results += recurate_lost(store, state.archived, state.pending, [item.month for item in planned], max_bytes, guard)
    for result in results:
        on_result(result)
    return replace(part, planned=planned), results, superseded


def mend(
    part: Part,
    superseded: Superseded,
    max_bytes: int | None,
    time_left: Callable[[], float],
    margin: float,
    on_result: Callable[[MonthResult], None],
    guard: Callable[[], object] = lambda: None,
) -> tuple[Part, list[MonthResult]]:
    """Put a repair event's periods right from their raw objects (no request to Amazon; `guard` before each); the rest stay planned.

    A period whose unfinished transaction settling could not finish stays planned too: its new transaction supersedes it.
    """
    left: list[PlannedMonth] = []
    results: list[MonthResult] = []
    for item in part.planned:
        result: MonthResult | None = None
        if item.repair and item.month not in superseded:
            name, markers = part.store.report.name, part.state.markers(item.month)
            guard()  # the lease's renewal: a lost lease stops the run before it writes
            try:
                if time_left() < margin:
                    result = MonthResult(name, str(item.month), "deferred", error="too little time left to repair it")
                else:
                    result = from_raw(part.store, item.month, part.partitions.register, markers, max_bytes)
            except Exception as exc:  # one period's failure must not stop the others
                result = MonthResult(name, str(item.month), "failed", error=f"{type(exc).__name__}: {exc}")
        if result is None:
            left.append(item)
            continue
        on_result(result)
        results.append(result)
    return replace(part, planned=left), results
