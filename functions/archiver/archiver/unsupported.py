"""A report type the API refuses as unknown: one `unsupported` result per run, asked again at most weekly."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from archiver.plan import ArchiveState, PlannedMonth
from archiver.report import MonthResult
from archiver.store import ArchiveStore

ASK_AGAIN_AFTER = timedelta(days=7)  # a refused type is asked again once its marker is this old


def still_refused(state: ArchiveState, now: datetime) -> bool:
    """Whether the API refused the type less than a week ago (so this run does not ask)."""
    return state.unsupported is not None and now - state.unsupported < ASK_AGAIN_AFTER


def skipped(store: ArchiveStore, state: ArchiveState, planned: list[PlannedMonth]) -> MonthResult:
    """The run's one result for a type refused less than a week ago: nothing asked."""
    assert state.unsupported is not None
    again = (state.unsupported + ASK_AGAIN_AFTER).isoformat(timespec="seconds")
    first = str(planned[0].month) if planned else ""
    error = f"the API refused report type {store.report.name!r} as unknown on {state.unsupported.isoformat(timespec='seconds')}"
    return MonthResult(store.report.name, first, "unsupported", error=f"{error}; asked again after {again}")


def refused(store: ArchiveStore, item: PlannedMonth, exc: Exception, skipped: int) -> MonthResult:
    """The run's one result when the API refuses the type: the marker is (re)put; the type's other periods are skipped."""
    error = f"{exc}; {skipped} other period(s) skipped this run; asked again in {ASK_AGAIN_AFTER.days} days"
    try:
        store.set_unsupported()
    except Exception as marker:
        error += f"; the unsupported marker could not be saved: {type(marker).__name__}: {marker}"
    return MonthResult(store.report.name, str(item.month), "unsupported", error=error)


def served_again(store: ArchiveStore, state: ArchiveState, results: list[MonthResult]) -> None:
    """Forget the type's `unsupported` marker once the API has answered it normally again."""
    if state.unsupported is not None and any(r.status in ("archived", "unchanged", "not_found") for r in results):
        with contextlib.suppress(Exception):  # a marker left behind only delays the next ask by up to a week
            store.clear_unsupported()
