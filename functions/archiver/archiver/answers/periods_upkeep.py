"""Write each report type's periods table as its share of a run ends, best effort: it never hides or causes a run's error."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger

from archiver.answers.completeness import PeriodRow, period_rows
from archiver.answers.periods_table import decode, read_body, write
from archiver.core.months import Month
from archiver.core.results import MonthResult
from archiver.storage.store import ArchiveStore

logger = Logger(child=True)
MIN_SECONDS = 30.0  # with less Lambda time left a type's table is left to the next run (a timeout would hide the run's result)


def refresh(store: ArchiveStore, start: Month, current: Month, results: list[MonthResult]) -> list[PeriodRow] | None:
    """Recompute the type's rows from the bucket, this run's results and the previous rows; write them if they changed."""
    previous = read_body(store)
    rows = period_rows(store, start, current, results, decode(previous) if previous else None)
    return rows if write(store, rows, previous) else None


class Recorder:
    """Collects a run's results and writes a type's periods table when told its share of the run ended."""

    def __init__(self, start: Month, current: Month, time_left: Callable[[], float] = lambda: float("inf")) -> None:
        self.start, self.current, self.time_left = start, current, time_left
        self.results: list[MonthResult] = []

    def watch(self, on_result: Callable[[MonthResult], None]) -> Callable[[MonthResult], None]:
        """`on_result`, also keeping each result for the table."""

        def both(result: MonthResult) -> None:
            self.results.append(result)
            on_result(result)

        return both

    def record(self, store: ArchiveStore) -> None:
        """Write the type's table if it changed; a failure is logged (the next run writes it), never raised."""
        name = store.report.name
        if self.time_left() < MIN_SECONDS:
            logger.warning(f"{name}: the periods table is left to the next run: {self.time_left():.0f} s left")
            return
        try:
            written = refresh(store, self.start, self.current, [r for r in self.results if r.report == name])
        except Exception as exc:
            logger.warning(f"{name}: the periods table could not be written: {type(exc).__name__}: {exc}")
            return
        if written is not None:
            logger.info(f"{name}: periods table written ({len(written)} periods)")
