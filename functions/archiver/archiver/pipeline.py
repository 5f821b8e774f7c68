"""Archive planned months one by one: link, download, compare, curate, store, catalog."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from aws_lambda_powertools import Logger

from archiver.appstore import AppstoreClient
from archiver.catalog import Catalog
from archiver.convert import COLUMNS_FINGERPRINT, curate, sniff
from archiver.deadline import NO_DEADLINE, Deadline
from archiver.download import Downloaded, DownloadError, download
from archiver.months import Month
from archiver.plan import ArchiveState, PlannedMonth
from archiver.report import MonthResult
from archiver.store import ArchiveStore

DOWNLOAD_ATTEMPTS = 3
REPORT = "sales"
RAW_TYPES = {"gzip": "application/gzip", "zip": "application/zip"}

logger = Logger(child=True)


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
    deadline: Deadline = NO_DEADLINE  # bounds every wait of a month (the Appstore client holds the same one)

    def run(
        self,
        planned: list[PlannedMonth],
        time_left: Callable[[], float],
        margin: float,
        on_result: Callable[[MonthResult], None] = lambda result: None,
    ) -> list[MonthResult]:
        """Repair stale partitions, then archive each month in order; once time runs short the rest are deferred."""
        results = self.repair_partitions({item.month for item in planned})
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

    def repair_partitions(self, planned: set[Month]) -> list[MonthResult]:
        """Register each archived, unplanned month whose partition is missing or elsewhere; failures as results."""
        failed: list[MonthResult] = []
        for month in sorted(self.state.archived - planned):
            try:
                outcome = self._register(month)
            except Exception as exc:
                error = f"partition could not be registered: {type(exc).__name__}: {exc}"
                failed.append(MonthResult(REPORT, str(month), "failed", error=error))
                continue
            if outcome != "unchanged":
                location = self.store.location(month)
                logger.info(
                    f"{REPORT} {month}: partition {outcome}", extra={"month": str(month), "partition": outcome, "location": location}
                )
        return failed

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
        """Archive one month unless its served bytes are already archived."""
        month = item.month
        with tempfile.TemporaryDirectory(prefix="appstore-") as scratch:
            fetched = self._fetch(item, Path(scratch) / "raw")
            if fetched is None:
                if month not in self.state.archived and month not in self.state.not_found:
                    self.store.set_marker(month, "not_found")
                self._forget_deferred(item)
                return MonthResult(REPORT, str(month), "not_found")
            current = self.store.archived(month)
            curated_key = self.store.curated_key(month)
            if (
                not item.force
                and current is not None
                and current.raw_sha256 == fetched.sha256
                and current.curated_fingerprint == COLUMNS_FINGERPRINT
            ):
                self._register(month)
                self._settle(item)
                return MonthResult(REPORT, str(month), "unchanged", current.raw_key, curated_key, fetched.size, None, fetched.sha256)
            kind = sniff(fetched.path)
            curated_path = Path(scratch) / "curated.csv.gz"
            with open(curated_path, "wb") as target:
                curated = curate(fetched.path, target)
            raw_key = self.store.raw_prefix(month) + fetched.name
            # Curated first, raw last: the raw object's checksum is what marks the month as done.
            self.store.put(curated_key, curated_path, {"sha256": curated.sha256, "columns": COLUMNS_FINGERPRINT}, "application/gzip")
            version = self.store.current_version(curated_key)  # what to roll back if the raw upload fails
            try:
                self.store.put(raw_key, fetched.path, {"sha256": fetched.sha256}, RAW_TYPES[kind])
            except Exception:
                if version is not None:  # roll the curated object back, so the pair stays as it was
                    self.store.remove_version(curated_key, version)
                raise
            self.store.remove_other_raw(month, raw_key)
            self._register(month)
            self._settle(item)
            drift = list(curated.unknown_columns)
            return MonthResult(
                REPORT, str(month), "archived", raw_key, curated_key, fetched.size, curated.rows, fetched.sha256, unknown_columns=drift
            )

    def _fetch(self, item: PlannedMonth, spool: Path) -> Downloaded | None:
        """Download the month's report, with a fresh link for each retry; None if not found."""
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            link = self.appstore.report_link(REPORT, item.month)
            if link is None:
                return None
            try:
                with open(spool, "wb") as target:
                    return download(self.downloads, link, self.allowed_hosts, target, self.deadline)
            except DownloadError:
                if attempt == DOWNLOAD_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _settle(self, item: PlannedMonth) -> None:
        """Clear the month's markers once it is archived."""
        if item.month in self.state.not_found:
            self.store.clear_marker(item.month, "not_found")
        self._forget_deferred(item)

    def _forget_deferred(self, item: PlannedMonth) -> None:
        """Clear a deferred marker once the month has been processed."""
        if item.month in self.state.deferred:
            self.store.clear_marker(item.month, "deferred")
