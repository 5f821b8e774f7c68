"""A report type the API refuses as unknown: one `unsupported` result per run, asked again at most weekly.

Only a type that may really be missing from the API is so: never sales (documented by Amazon), nor a type with
archived periods (the API served it before). Their refusal is a wrong APPSTORE_REPORT_URL or an outage: a failure.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from archiver.amazon.appstore import AppstoreError
from archiver.core.months import Month
from archiver.core.periods import PlannedMonth
from archiver.core.results import MonthResult
from archiver.storage.store import ArchiveState, ArchiveStore

ASK_AGAIN_AFTER = timedelta(days=7)  # a refused type is asked again once its marker is this old


class RefusedAsUnknown(AppstoreError):
    """The API refused sales, or a type it served before, as unknown: the month fails."""


def may_be_unsupported(store: ArchiveStore, state: ArchiveState) -> bool:
    """Whether a refusal of the type as unknown may be `unsupported`: not sales, and no period of it archived."""
    return store.report.name != "sales" and not state.archived


def failure(store: ArchiveStore, exc: Exception) -> RefusedAsUnknown:
    """The month's error when the API refuses a type that cannot be unsupported."""
    why = "sales is a documented report type" if store.report.name == "sales" else "the type has archived periods"
    return RefusedAsUnknown(f"{exc}; {why}, so this is a failure: check APPSTORE_REPORT_URL")


def still_refused(state: ArchiveState, now: datetime) -> bool:
    """Whether the API refused the type less than a week ago (so this run does not ask)."""
    return state.unsupported is not None and now - state.unsupported < ASK_AGAIN_AFTER


def skipped(store: ArchiveStore, state: ArchiveState, planned: list[PlannedMonth], now: datetime) -> MonthResult:
    """The run's one result for a type refused less than a week ago, naming its first planned period (or the current one)."""
    assert state.unsupported is not None
    again = (state.unsupported + ASK_AGAIN_AFTER).isoformat(timespec="seconds")
    first = str(planned[0].month if planned else store.report.period_of(Month.of(now)))
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


def served_again(store: ArchiveStore, state: ArchiveState, answered: list[MonthResult]) -> None:
    """Forget the type's `unsupported` marker once the API has answered it normally again (`answered`: this run's requests only)."""
    if state.unsupported is not None and any(r.status in ("archived", "unchanged", "not_found") for r in answered):
        with contextlib.suppress(Exception):  # a marker left behind only delays the next ask by up to a week
            store.clear_unsupported()
