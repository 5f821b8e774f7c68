"""The audit's checks on one period's objects and partition, and on the prefix: each returns the problems it finds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cli.fixes import Fixes
from cli.inventory import Item, MonthRecord, ReportArchive

# Checks whose problems a repair run of the period puts right (from its raw object, else from Amazon's bytes).
REPAIRABLE = frozenset({"raw", "curated", "source", "partition", "pending"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the archive: which check, report type, period (`month`: YYYY-MM or YYYY) and key, what.

    `action` says what a person does about a problem a repair run of its period cannot fix (often a command to run).
    """

    check: str
    message: str
    month: str | None = None
    key: str | None = None
    report: str | None = None
    action: str | None = None

    @property
    def repairable(self) -> bool:
        """True when re-archiving the period fixes it."""
        return self.action is None and self.month is not None and self.report is not None and self.check in REPAIRABLE


def sha256_of(s3: Any, bucket: str, key: str) -> str:
    """SHA-256 of an object's bytes, streamed."""
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def check_raw(s3: Any, part: ReportArchive, record: MonthRecord) -> list[Problem]:
    """Exactly one raw object, whose bytes hash to its `sha256` metadata."""
    at = {"month": str(record.month), "report": part.report.name}
    if not record.raw:
        if record.curated is not None:
            return [Problem("raw", "curated object without a raw object", key=record.curated.key, **at)]
        return []
    if len(record.raw) > 1:
        return [Problem("raw", f"{len(record.raw)} raw objects; the period must have exactly one", key=record.raw[0].key, **at)]
    raw = record.raw[0]
    recorded = raw.metadata.get("sha256")
    if not recorded:
        return [Problem("raw", "raw object has no sha256 metadata", key=raw.key, **at)]
    actual = sha256_of(s3, part.store.bucket, raw.key)
    if actual != recorded:
        return [Problem("raw", f"raw object's SHA-256 {actual[:12]}… differs from its metadata {recorded[:12]}…", key=raw.key, **at)]
    return []


def check_source(part: ReportArchive, record: MonthRecord, raw_ok: bool) -> list[Problem]:
    """The curated object was made from the current raw object (`source-sha256` == raw `sha256`)."""
    if record.curated is None or len(record.raw) != 1:
        return []
    at = {"month": str(record.month), "report": part.report.name, "key": record.curated.key}
    source = record.curated.metadata.get("source-sha256")
    if not source:
        return [Problem("source", "curated object does not record its source", **at)]
    if source != record.raw[0].metadata.get("sha256") or not raw_ok:
        return [Problem("source", "curated object was not made from the current raw object", **at)]
    return []


def check_partition(part: ReportArchive, record: MonthRecord, fixes: Fixes) -> list[Problem]:
    """An archived period's partition exists at its location in the type's table; none for a period not archived.

    A run re-registers an archived period's partition, but never removes one: a period not archived needs a person.
    """
    at = {"month": str(record.month), "report": part.report.name}
    expected, table = part.store.location(record.month), part.table.name
    if record.raw and record.partition is None:
        return [Problem("partition", f"archived period has no Glue partition (table {table})", **at)]
    if record.raw and record.partition != expected:
        return [Problem("partition", f"partition in {table} points at {record.partition}, not {expected}", **at)]
    if not record.raw and record.partition is not None:
        action = fixes.delete_partition(table, part.report.partition_values(record.month))
        return [Problem("partition", f"partition in {table} for a period that is not archived", action=action, **at)]
    return []


def check_pending(part: ReportArchive, record: MonthRecord, running: str | None = None) -> list[Problem]:
    """No transaction left unfinished; while a run holds the archive's lease (`running` says which), its own is in progress."""
    marker = record.markers.get("pending")
    if marker is None:
        return []
    if running is not None:  # not a problem to repair: the run holding the lease finishes (or settles) it
        return [Problem("running", f"{running}: its transaction (pending marker)", str(record.month), marker.key, part.report.name)]
    return [Problem("pending", "a transaction did not finish (pending marker)", str(record.month), marker.key, part.report.name)]


def check_stray(stray: list[Item], fixes: Fixes) -> list[Problem]:
    """No key in the archive's own folders outside every report type's layout (Athena reads all a partition holds)."""
    return [Problem("stray", "key outside the archive's layout", key=item.key, action=fixes.copy_key(item.key)) for item in stray]


def check_uploads(uploads: list[tuple[str, str]], fixes: Fixes, running: str | None = None) -> list[Problem]:
    """No incomplete multipart upload under the prefix; while a run holds the archive's lease, it may be that run's: no abort."""
    if running is not None:
        return [Problem("running", f"{running}: its multipart upload {upload[:16]}…", key=key) for key, upload in uploads]
    return [
        Problem("upload", f"incomplete multipart upload {upload[:16]}…", key=key, action=fixes.abort_upload(key, upload))
        for key, upload in uploads
    ]
