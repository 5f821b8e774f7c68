"""Archive planned months one by one: link, download, compare, curate, store, catalog."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from archiver.amazon.appstore import AppstoreClient, AppstoreError, ReportUnsupported
from archiver.amazon.download import Downloaded, DownloadError, download
from archiver.core.deadline import NO_DEADLINE, Deadline, OutOfTime
from archiver.core.periods import PlannedMonth
from archiver.core.results import MonthResult
from archiver.run import unsupported
from archiver.storage.objects import clear_intent
from archiver.storage.prepare import curated_metadata, fingerprint, is_unchanged, prepare
from archiver.storage.settle import Partitions, repair_partitions, with_repair
from archiver.storage.store import ArchiveState, ArchiveStore
from archiver.storage.transaction import MonthWrite, Superseded, commit

DOWNLOAD_ATTEMPTS = 3
TIMEOUTS = (requests.Timeout, requests.ConnectionError, DownloadError)  # once no time is left, a month failing so ran out of it
RAW_TYPES = {"gzip": "application/gzip", "zip": "application/zip", "plain": "text/csv"}


@dataclass(frozen=True)
class Pipeline:
    """Everything one run of one report type needs (the store names the type), passed in so tests can supply their own clients."""

    appstore: AppstoreClient
    downloads: requests.Session
    allowed_hosts: tuple[str, ...]
    store: ArchiveStore
    partitions: Partitions
    state: ArchiveState
    max_bytes: int | None = None  # the most bytes a report may decompress to
    superseded: Superseded = field(default_factory=dict)  # unfinished markers a period's new transaction replaces
    deadline: Deadline = NO_DEADLINE  # bounds every wait of a month (the Appstore client holds the same one)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # gates re-asking a type the API refused
    guard: Callable[[], object] = lambda: None  # runs before each month (the lease's renewal: raises, stopping the run, when lost)

    def run(
        self,
        planned: list[PlannedMonth],
        time_left: Callable[[], float],
        margin: float,
        on_result: Callable[[MonthResult], None] = lambda result: None,
    ) -> list[MonthResult]:
        """Repair partitions, then archive each month (pending transactions already settled); once time runs short the rest are deferred."""
        fetched = {str(item.month) for item in planned}  # repaired too, as their own fetch may fail: see with_repair
        repaired = repair_partitions(self.store, self.state.archived, self.partitions.register)
        results = [r for r in repaired if r.month not in fetched]
        repairs = {r.month: r for r in repaired if r.month in fetched}
        possible = unsupported.may_be_unsupported(self.store, self.state)  # else a refusal as unknown is a failure
        gated = possible and unsupported.still_refused(self.state, self.now)
        if gated:
            results.append(unsupported.skipped(self.store, self.state, planned, self.now))
        for result in results:
            on_result(result)
        asked = len(results)  # the results from here on answer this run's link requests
        for index, item in enumerate([] if gated else planned):
            self.guard()
            if time_left() < margin:
                result = self._defer(item)
            else:
                try:
                    result = self.archive(item)
                except ReportUnsupported as exc:  # the type, not the period: one result, the rest skipped
                    refused = unsupported.refused(self.store, item, exc, len(planned) - index - 1) if possible else None
                    result = refused or self._failed(item, unsupported.failure(self.store, exc))
                except Exception as exc:  # one month's failure must not stop the others
                    result = self._failed(item, exc)
            for reported in with_repair(result, repairs.pop(result.month, None)):
                on_result(reported)
                results.append(reported)
            if result.status == "unsupported":
                break
        for left in repairs.values():  # a safeguard: the loop stops early only for a type with no archived month
            on_result(left)
            results.append(left)
        unsupported.served_again(self.store, self.state, results[asked:])
        return results

    def _failed(self, item: PlannedMonth, exc: Exception) -> MonthResult:
        """A month that raised before its commit point (nothing changed): deferred if it ran out of time, else failed."""
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, OutOfTime) or (self.deadline.remaining() <= 0 and isinstance(exc, TIMEOUTS)):
            return self._defer(item, error)
        return MonthResult(self.store.report.name, str(item.month), "failed", error=error)

    def _defer(self, item: PlannedMonth, reason: str | None = None) -> MonthResult:
        """Leave the month to the next run, remembering it in a marker when the bucket allows."""
        try:
            self.store.set_marker(item.month, "deferred", item.force)
        except Exception as exc:  # the month is still deferred; the run goes on
            error = f"the deferred marker could not be saved: {type(exc).__name__}: {exc}"
            return MonthResult(self.store.report.name, str(item.month), "deferred", error="; ".join(filter(None, (reason, error))))
        return MonthResult(self.store.report.name, str(item.month), "deferred", error=reason)

    def archive(self, item: PlannedMonth) -> MonthResult:
        """Archive one month unless the served bytes, its raw object and its curated object already agree."""
        month = item.month
        with tempfile.TemporaryDirectory(prefix="appstore-") as scratch:
            fetched = self._fetch(item, Path(scratch) / "raw")
            if fetched is None:
                if item.recheck or (month not in self.state.archived and month not in self.state.not_found):
                    self.store.set_marker(month, "not_found")  # a re-check refreshes the marker's LastModified
                self._forget_deferred(item)
                return MonthResult(self.store.report.name, str(month), "not_found")
            view = self.store.month(month)
            curated_key = self.store.curated_key(month)
            if is_unchanged(view, fetched.sha256, item.force or item.repair, fingerprint(self.store.report)):
                facts = (view.raw[0].key, curated_key, fetched.size, None, fetched.sha256, self._tidy(item))
                return MonthResult(self.store.report.name, str(month), "unchanged", *facts)
            curated_path = Path(scratch) / "curated.gz"
            curated, kind = prepare(self.store, month, fetched, view, item.force, curated_path, self.max_bytes)
            raw_key = self.store.raw_prefix(month) + fetched.name
            metadata = curated_metadata(self.store.report, curated, fetched.sha256)
            write = MonthWrite(month, raw_key, fetched.path, RAW_TYPES[kind], fetched.sha256, curated_key, curated_path, metadata)
            previous = view.curated.version if view.curated else None
            markers, supersedes = self.state.markers(month), self.superseded.get(month, [])
            errors = commit(self.store, write, previous, self.partitions.register, markers, supersedes)
            done = (raw_key, curated_key, fetched.size, curated.rows, fetched.sha256, "; ".join(errors) or None)
            notes = (list(curated.unknown_columns), curated.guesses, list(curated.guess_notes))
            return MonthResult(self.store.report.name, str(month), "archived", *done, *notes)

    def _tidy(self, item: PlannedMonth) -> str | None:
        """An unchanged month's partition and markers; their errors (its pair agrees: `unchanged`, incomplete, not failed)."""
        what = "partition could not be registered"
        try:
            self.partitions.register(item.month)
            what = "a marker could not be cleared"
            self._settle(item)
            for old in self.superseded.pop(item.month, []):  # the pair agrees: the unfinished transaction is finished
                clear_intent(self.store, item.month, str(old["txn"]), old["version"])
        except Exception as exc:  # the next run registers the partition, or finds the marker, again
            return f"{what}: {type(exc).__name__}: {exc}"
        return None

    def _fetch(self, item: PlannedMonth, spool: Path) -> Downloaded | None:
        """Download the month's report, with a fresh link for each retry; None if not found."""
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            link = self.appstore.report_link(self.store.report, item.month)
            if link is None and attempt > 1:  # Amazon gave a link moments ago: not an answer to trust
                name = self.store.report.name
                raise AppstoreError(f"report endpoint answered 'Report not found' for {name} {item.month} after giving a link")
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
