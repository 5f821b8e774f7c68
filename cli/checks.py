"""The audit's checks: each takes what it needs of the archive and returns the problems it finds."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from typing import Any

from archiver.convert import COLUMNS_FINGERPRINT, CuratedDialect
from cli.archive import Archive, Item, MonthRecord

# Checks whose problems an archiver run with `force` over the month repairs.
REPAIRABLE = frozenset({"raw", "curated", "source", "partition", "pending"})
SERDE_KEYS = {"separatorChar": CuratedDialect.delimiter, "quoteChar": CuratedDialect.quotechar, "escapeChar": CuratedDialect.escapechar}
OPENCSV_DEFAULTS = {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}  # what OpenCSVSerDe uses when unset


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the archive: which check, which month and key, what."""

    check: str
    message: str
    month: str | None = None
    key: str | None = None

    @property
    def repairable(self) -> bool:
        """True when re-archiving the month fixes it."""
        return self.month is not None and self.check in REPAIRABLE


def sha256_of(s3: Any, bucket: str, key: str) -> str:
    """SHA-256 of an object's bytes, streamed."""
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def check_raw(s3: Any, bucket: str, record: MonthRecord) -> list[Problem]:
    """Exactly one raw object, whose bytes hash to its `sha256` metadata."""
    month = str(record.month)
    if not record.raw:
        if record.curated is not None:
            return [Problem("raw", "curated object without a raw object", month, record.curated.key)]
        return []
    if len(record.raw) > 1:
        return [Problem("raw", f"{len(record.raw)} raw objects; the month must have exactly one", month, record.raw[0].key)]
    raw = record.raw[0]
    recorded = raw.metadata.get("sha256")
    if not recorded:
        return [Problem("raw", "raw object has no sha256 metadata", month, raw.key)]
    actual = sha256_of(s3, bucket, raw.key)
    if actual != recorded:
        return [Problem("raw", f"raw object's SHA-256 {actual[:12]}… differs from its metadata {recorded[:12]}…", month, raw.key)]
    return []


def _parse(body: bytes, columns: list[str]) -> tuple[list[str], int]:
    """Header and data row count of a curated object read with the table's dialect; every row as wide as the header."""
    text = io.TextIOWrapper(io.BytesIO(gzip.decompress(body)), encoding="utf-8", newline="")
    reader = csv.reader(text, dialect=CuratedDialect)
    header = next(reader, [])
    rows = 0
    for row in reader:
        if len(row) != len(columns):
            raise ValueError(f"line {reader.line_num} has {len(row)} fields, the table has {len(columns)} columns")
        rows += 1
    return header, rows


def check_curated(s3: Any, bucket: str, record: MonthRecord, columns: list[str]) -> list[Problem]:
    """The curated object exists, matches its sha256, parses with the SerDe's dialect, has the table's header and its rows."""
    month = str(record.month)
    curated = record.curated
    if curated is None:
        return [Problem("curated", "archived month has no curated object", month)] if record.raw else []
    body = s3.get_object(Bucket=bucket, Key=curated.key)["Body"].read()
    meta = curated.metadata
    if meta.get("sha256") != hashlib.sha256(body).hexdigest():
        return [Problem("curated", "curated object's SHA-256 differs from its metadata", month, curated.key)]
    try:
        header, rows = _parse(body, columns)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error, ValueError) as exc:
        return [Problem("curated", f"curated object does not parse with the table's dialect: {exc}", month, curated.key)]
    found: list[Problem] = []
    if header != columns:
        found.append(Problem("curated", f"curated header differs from the Glue columns: {header[:4]}…", month, curated.key))
    if meta.get("rows") != str(rows):
        found.append(Problem("curated", f"curated object has {rows} rows, its metadata says {meta.get('rows')}", month, curated.key))
    if meta.get("columns") != COLUMNS_FINGERPRINT:
        found.append(Problem("curated", "curated object was written in an older format (columns fingerprint)", month, curated.key))
    return found


def check_source(record: MonthRecord, raw_ok: bool) -> list[Problem]:
    """The curated object was made from the current raw object (`source-sha256` == raw `sha256`)."""
    if record.curated is None or len(record.raw) != 1:
        return []
    month, source = str(record.month), record.curated.metadata.get("source-sha256")
    if not source:
        return [Problem("source", "curated object does not record its source", month, record.curated.key)]
    if source != record.raw[0].metadata.get("sha256") or not raw_ok:
        return [Problem("source", "curated object was not made from the current raw object", month, record.curated.key)]
    return []


def check_partition(archive: Archive, record: MonthRecord) -> list[Problem]:
    """An archived month's partition exists at its location; no partition for a month that is not archived."""
    month, expected = str(record.month), archive.store.location(record.month)
    if record.raw and record.partition is None:
        return [Problem("partition", "archived month has no Glue partition", month)]
    if record.raw and record.partition != expected:
        return [Problem("partition", f"partition points at {record.partition}, not {expected}", month)]
    if not record.raw and record.partition is not None:
        return [Problem("partition", "Glue partition for a month that is not archived", month)]
    return []


def check_pending(record: MonthRecord) -> list[Problem]:
    """No month transaction left unfinished."""
    marker = record.markers.get("pending")
    return [Problem("pending", "a month transaction did not finish (pending marker)", str(record.month), marker.key)] if marker else []


def check_stray(stray: list[Item]) -> list[Problem]:
    """No key under the prefix outside the layout."""
    return [Problem("stray", "key outside the archive's layout", key=item.key) for item in stray]


def check_uploads(uploads: list[tuple[str, str]]) -> list[Problem]:
    """No incomplete multipart upload under the prefix."""
    return [Problem("upload", f"incomplete multipart upload {upload[:16]}…", key=key) for key, upload in uploads]


def check_table(table: dict[str, Any]) -> list[Problem]:
    """The table's SerDe reads the curated dialect and skips exactly its header line."""
    serde = table.get("StorageDescriptor", {}).get("SerdeInfo", {}).get("Parameters", {})
    found = [
        Problem("table", f"table SerDe {name} is {serde.get(name)!r}, the curated files use {wanted!r}")
        for name, wanted in SERDE_KEYS.items()
        if serde.get(name, OPENCSV_DEFAULTS[name]) != wanted
    ]
    if table.get("Parameters", {}).get("skip.header.line.count") != "1":
        found.append(Problem("table", "table does not skip the curated files' header line"))
    return found
