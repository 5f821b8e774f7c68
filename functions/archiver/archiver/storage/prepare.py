"""Decide whether a fetched month must be written, and curate it; bytes that cannot be archived go to quarantine."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.core.errors import ReportFormatError
from archiver.core.periods import Period
from archiver.core.report_types import ReportType
from archiver.formats.schema import COLUMNS_FINGERPRINT
from archiver.storage.objects import quarantine
from archiver.storage.store import ArchiveStore, MonthView

GUESS_NOTES = 10  # the guesses a month's result and log line describe (all are counted)

# The converters are imported when a month is curated: a run whose months are unchanged needs neither, and a run
# that archives only sales never needs the schema-free parser (archiver.formats.sections).
if TYPE_CHECKING:
    from archiver.amazon.download import Downloaded
    from archiver.formats.sales_csv import Curated


class EmptyReportRefused(RuntimeError):
    """A report without data rows would have replaced a month that holds rows."""


def fingerprint(report: ReportType) -> str:
    """The current curated format of a type (curated `columns` metadata): the canonical columns, or the JSON Lines layout."""
    if report.curated == "csv":
        return COLUMNS_FINGERPRINT
    from archiver.formats.sections import FORMAT_FINGERPRINT

    return FORMAT_FINGERPRINT


def curated_metadata(report: ReportType, curated: Curated, source_sha256: str) -> dict[str, str]:
    """The curated object's metadata, however it was made (a fetch, a roll-forward, a repair): status and verify read it."""
    rows, guesses = str(curated.rows), str(curated.guesses)
    return {"sha256": curated.sha256, "columns": fingerprint(report), "rows": rows, "source-sha256": source_sha256, "guesses": guesses}


def is_unchanged(view: MonthView, sha256: str, force: bool, current: str = COLUMNS_FINGERPRINT) -> bool:
    """True only when the served bytes, the one raw object and the curated object's source agree, in the current format."""
    if force or len(view.raw) != 1 or view.curated is None:
        return False
    curated = view.curated.metadata
    return view.raw[0].metadata.get("sha256") == sha256 == curated.get("source-sha256") and curated.get("columns") == current


def holds_rows(store: ArchiveStore, view: MonthView) -> bool:
    """Whether the archived curated object has data rows (read from its metadata, or from its first lines if older).

    A month with a raw object but no curated object (lost, or its versions expired) is never empty: it is protected too.
    """
    if view.curated is None:
        return bool(view.raw)
    rows = view.curated.metadata.get("rows", "")
    if rows.isdigit():
        return int(rows) > 0
    extra = {"VersionId": view.curated.version} if view.curated.version else {}
    body = store.s3.get_object(**store.args(Key=view.curated.key, **extra))["Body"]
    try:
        with gzip.GzipFile(fileobj=body) as text:
            if store.report.curated == "csv":
                text.readline()  # the header; a curated row never spans lines
            return bool(text.readline())
    finally:
        body.close()


def curate_file(report: ReportType, source: Path, target: Path, max_bytes: int | None) -> Curated:
    """Write the type's curated file of a served file (canonical CSV, or JSON Lines); ReportFormatError if it cannot be."""
    from archiver.formats.sales_csv import Curated, curate

    with open(target, "wb") as out:
        if report.curated == "csv":
            return curate(source, out, max_bytes)
        from archiver.formats.sections import curate_sections

        done = curate_sections(source, out, max_bytes)
        return Curated(done.rows, done.size, done.sha256, (), len(done.guesses), done.guesses[:GUESS_NOTES])


def prepare(
    store: ArchiveStore, month: Period, fetched: Downloaded, view: MonthView, force: bool, target: Path, max_bytes: int | None
) -> tuple[Curated, str]:
    """Curate the served file into `target`; (facts, 'gzip', 'zip' or 'plain'). Refused bytes are quarantined, the error names the key."""
    from archiver.formats.decode import sniff

    try:
        kind = sniff(fetched.path)
        curated = curate_file(store.report, fetched.path, target, max_bytes)
    except ReportFormatError as exc:  # SchemaError and ReportTooLarge too: same class, its message naming the kept copy
        exc.args = (_kept(store, month, fetched, f"{exc}"),)
        raise
    if curated.rows == 0 and not force and holds_rows(store, view):
        reason = "report has no data rows, but the archived month has rows; invoke with force to accept it"
        raise EmptyReportRefused(_kept(store, month, fetched, reason))
    return curated, kind


def _kept(store: ArchiveStore, month: Period, fetched: Downloaded, reason: str) -> str:
    """Quarantine the served bytes; the reason, naming where they are kept."""
    key = store.quarantine_key(month, fetched.sha256, fetched.name)
    try:
        quarantine(store, key, fetched.path, fetched.sha256, reason)
    except Exception as exc:
        return f"{reason}; the served file could not be quarantined at s3://{store.bucket}/{key}: {type(exc).__name__}: {exc}"
    return f"{reason}; the served file is kept at s3://{store.bucket}/{key}"
