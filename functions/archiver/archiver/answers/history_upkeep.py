"""A run's history step: copy the raw versions without a history object (bounded per run), register their partitions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from archiver.answers.history import copied, copy_version, history_location, missing, raw_versions
from archiver.core.errors import ReportFormatError
from archiver.core.periods import Period
from archiver.storage.catalog import Catalog
from archiver.storage.remake import RawMismatch
from archiver.storage.store import ArchiveStore

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

logger = Logger(child=True)
COPIES_PER_RUN = 24  # history objects a run makes at most: a daily run's few new fetches, then the backfill of older versions
HISTORY_SUFFIX = "_history"  # GLUE_TABLE + this: the history table of the sales type (template.yaml SalesHistoryTable)


class HistoryError(RuntimeError):
    """History copies or their partitions failed: the months are archived, the run raises at its end (the next run retries)."""


@dataclass
class HistoryRun:
    """What a run's history step did: objects written, versions left to later runs, and errors (none stop the run)."""

    written: list[str] = field(default_factory=list)
    left: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # raw versions not as served (SHA-256) or unreadable: a warning each run

    def failure(self) -> HistoryError | None:
        """The step's errors as one exception for the run's end (None when there were none)."""
        return HistoryError(f"history not complete: {'; '.join(self.errors)}") if self.errors else None


def backfill(
    store: ArchiveStore,
    catalog: Catalog[tuple[str, ...]],
    time_left: Callable[[], float],
    margin: float,
    limit: int,
    max_bytes: int | None = None,
) -> HistoryRun:
    """Make at most `limit` missing history objects while time allows, then register each history period's partition."""
    run = HistoryRun()
    done = copied(store)
    todo = missing(raw_versions(store), done)
    periods = {period for period, _ in done}  # those with a history object: each needs its partition
    for index, raw in enumerate(todo):
        if index >= limit or time_left() < margin:
            run.left = len(todo) - index
            break
        try:
            run.written.append(copy_version(store, raw, max_bytes))
            periods.add(raw.period)
        except (RawMismatch, ReportFormatError) as exc:  # bytes not as served, or unreadable: no later run copies them either
            run.skipped.append(f"{store.report.name} {raw.period}: {exc}")
        except Exception as exc:  # this version waits for the next run; the others go on
            run.errors.append(f"{store.report.name} {raw.period} {raw.key} version {raw.version}: {type(exc).__name__}: {exc}")
    try:
        register(store, catalog, periods)
    except Exception as exc:
        run.errors.append(f"{store.report.name} history partitions could not be registered: {type(exc).__name__}: {exc}")
    return run


def register(store: ArchiveStore, catalog: Catalog[tuple[str, ...]], periods: Iterable[Period]) -> None:
    """Put each period's history partition at its location, calling Glue only for those the table's listing lacks."""
    found = catalog.partitions()
    for period in sorted(periods):
        values, location = store.report.partition_values(period), history_location(store, period)
        if found.get(values) != location:
            catalog.ensure_partition(list(values), location)


def run_history(
    stores: Iterable[ArchiveStore],
    glue: GlueClient,
    database: str,
    table: str,
    time_left: Callable[[], float],
    margin: float,
    max_bytes: int | None = None,
) -> HistoryRun | None:
    """The history step of a run (sales only: the one type with canonical columns); logged, never raised. None without sales.

    The caller makes its errors (`HistoryRun.failure`) fail the run at its end, so a copy that keeps failing raises alarms.
    """
    store = next((s for s in stores if s.report.curated == "csv"), None)
    if store is None:
        return None
    catalog = Catalog(glue, database, table + HISTORY_SUFFIX, store.report.partition_keys)
    try:
        catalog.descriptor()
        run = backfill(store, catalog, time_left, margin, COPIES_PER_RUN, max_bytes)
    except Exception as exc:
        run = HistoryRun(errors=[f"{store.report.name} history: {type(exc).__name__}: {exc}"])
    extra = {"history_written": len(run.written), "history_left": run.left}
    for error in run.errors:
        logger.error(f"history copy failed (the next run retries it): {error}", extra=extra)
    for skipped in run.skipped:
        logger.warning(f"history copy skipped, the raw version cannot be copied: {skipped}", extra=extra)
    if run.written or run.left:
        logger.info(f"{store.report.name}: {len(run.written)} history object(s) written, {run.left} left to later runs", extra=extra)
    return run
