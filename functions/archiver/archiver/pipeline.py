"""Archive planned months one by one: link, download, compare, curate, store, catalog."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from archiver.appstore import AppstoreClient, AppstoreError
from archiver.catalog import Catalog
from archiver.convert import COLUMNS_FINGERPRINT
from archiver.deadline import NO_DEADLINE, Deadline
from archiver.download import Downloaded, DownloadError, download
from archiver.months import Month
from archiver.plan import ArchiveState, PlannedMonth
from archiver.prepare import is_unchanged, prepare
from archiver.report import MonthResult
from archiver.store import ArchiveStore
from archiver.transaction import MonthWrite, commit
from archiver.upkeep import repair_partitions, settle_pending

DOWNLOAD_ATTEMPTS = 3
REPORT = "sales"
RAW_TYPES = {"gzip": "application/gzip", "zip": "application/zip"}


@dataclass(frozen=True)
class Pipeline:
    """Everything one run needs, passed in so tests can supply their own clients."""

    appstore: AppstoreClient
    downloads: requests.Session
    allowed_hosts: tuple[str, ...]
    store: ArchiveStore
    catalog: Catalog
    state: ArchiveState
    partitions: Mapping[tuple[str, str], str]  # the table's partitions when the run started: values -> location
    max_bytes: int | None = None  # the most bytes a report may decompress to
    deadline: Deadline = NO_DEADLINE  # bounds every wait of a month (the Appstore client holds the same one)

    def run(
        self,
        planned: list[PlannedMonth],
        time_left: Callable[[], float],
        margin: float,
        on_result: Callable[[MonthResult], None] = lambda result: None,
    ) -> list[MonthResult]:
        """Settle pending transactions, repair partitions, then archive each month; once time runs short the rest are deferred."""
        planned, results = settle_pending(self.store, self.state.pending, planned, self._register, self._markers, self.max_bytes)
        results += repair_partitions(self.store, self.state.archived - {item.month for item in planned}, self._register)
        for result in results:
            on_result(result)
        for item in planned:
            if time_left() < margin:
                result = self._defer(item)
            else:
                try:
                    result = self.archive(item)
                except Exception as exc:  # one month's failure must not stop the others
                    result = MonthResult(REPORT, str(item.month), "failed", error=f"{type(exc).__name__}: {exc}")
            on_result(result)
            results.append(result)
        return results

    def _register(self, month: Month) -> str:
        """Make sure the month's partition is at its location, calling Glue only when the run's listing says otherwise."""
        values, location = (f"{month.year:04d}", month.mm), self.store.location(month)
        if self.partitions.get(values) == location:
            return "unchanged"
        return self.catalog.ensure_partition(list(values), location)

    def _defer(self, item: PlannedMonth) -> MonthResult:
        """Leave the month to the next run, remembering it in a marker when the bucket allows."""
        try:
            self.store.set_marker(item.month, "deferred", item.force)
        except Exception as exc:  # the month is still deferred; the run goes on
            error = f"the deferred marker could not be saved: {type(exc).__name__}: {exc}"
            return MonthResult(REPORT, str(item.month), "deferred", error=error)
        return MonthResult(REPORT, str(item.month), "deferred")

    def archive(self, item: PlannedMonth) -> MonthResult:
        """Archive one month unless the served bytes, its raw object and its curated object already agree."""
        month = item.month
        with tempfile.TemporaryDirectory(prefix="appstore-") as scratch:
            fetched = self._fetch(item, Path(scratch) / "raw")
            if fetched is None:
                if item.recheck or (month not in self.state.archived and month not in self.state.not_found):
                    self.store.set_marker(month, "not_found")  # a re-check refreshes the marker's LastModified
                self._forget_deferred(item)
                return MonthResult(REPORT, str(month), "not_found")
            view = self.store.month(month)
            curated_key = self.store.curated_key(month)
            if is_unchanged(view, fetched.sha256, item.force):
                self._register(month)
                self._settle(item)
                return MonthResult(REPORT, str(month), "unchanged", view.raw[0].key, curated_key, fetched.size, None, fetched.sha256)
            curated_path = Path(scratch) / "curated.csv.gz"
            curated, kind = prepare(self.store, month, fetched, view, item.force, curated_path, self.max_bytes)
            raw_key = self.store.raw_prefix(month) + fetched.name
            metadata = {"sha256": curated.sha256, "columns": COLUMNS_FINGERPRINT, "rows": str(curated.rows)}
            metadata["source-sha256"] = fetched.sha256  # the raw bytes this curated object is made from
            write = MonthWrite(month, raw_key, fetched.path, RAW_TYPES[kind], fetched.sha256, curated_key, curated_path, metadata)
            previous = view.curated.version if view.curated else None
            errors = commit(self.store, write, previous, self._register, self._markers(month))
            drift = list(curated.unknown_columns)
            return MonthResult(
                REPORT,
                str(month),
                "archived",
                raw_key,
                curated_key,
                fetched.size,
                curated.rows,
                fetched.sha256,
                "; ".join(errors) or None,
                drift,
            )

    def _fetch(self, item: PlannedMonth, spool: Path) -> Downloaded | None:
        """Download the month's report, with a fresh link for each retry; None if not found."""
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            link = self.appstore.report_link(REPORT, item.month)
            if link is None and attempt > 1:  # Amazon gave a link moments ago: not an answer to trust
                raise AppstoreError(f"report endpoint answered 'Report not found' for {REPORT} {item.month} after giving a link")
            if link is None:
                return None
            try:
                with open(spool, "wb") as target:
                    return download(self.downloads, link, self.allowed_hosts, target, self.deadline)
            except DownloadError:
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _markers(self, month: Month) -> list[str]:
        """The month's not_found and deferred markers, to clear once it is archived."""
        return [s for s, months in (("not_found", self.state.not_found), ("deferred", self.state.deferred)) if month in months]

    def _settle(self, item: PlannedMonth) -> None:
        """Clear the month's markers once it is archived."""
        if item.month in self.state.not_found:
            self.store.clear_marker(item.month, "not_found")
        self._forget_deferred(item)

    def _forget_deferred(self, item: PlannedMonth) -> None:
        """Clear a deferred marker once the month has been processed."""
        if item.month in self.state.deferred:
            self.store.clear_marker(item.month, "deferred")
