"""The periods table's object per report type: `{prefix}periods/{type}.json.gz`, JSON Lines, written whole and only when it changed."""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any, cast

from botocore.exceptions import ClientError

from archiver.answers.completeness import COLUMNS, PeriodRow
from archiver.core.report_types import ReportType
from archiver.storage.store import ArchiveStore


def periods_folder(prefix: str) -> str:
    """The periods table's location below the bucket (unpartitioned: a later `account` column needs no new folders)."""
    return f"{prefix}periods/"


def periods_key(prefix: str, report: ReportType) -> str:
    """The report type's one object in the periods table."""
    return f"{periods_folder(prefix)}{report.name}.json.gz"


def encode(rows: list[PeriodRow]) -> bytes:
    """JSON Lines: one object a line, keys by column name, ASCII only (every control character and non-ASCII one escaped).

    What both Athena JSON SerDes read exactly: one JSON object per line (json.dumps never writes a raw newline), numbers
    for bigint, null for a missing value, strings with JSON's own escapes (the SerDes parse them with Jackson).
    """
    return b"".join(json.dumps(row.record(), ensure_ascii=True, separators=(",", ":")).encode() + b"\n" for row in rows)


def decode(body: bytes) -> dict[str, PeriodRow]:
    """The rows of a table object by period; fields the code does not know are dropped, missing ones are None."""
    names = [name for name, _ in COLUMNS]
    rows = (json.loads(line) for line in body.splitlines() if line.strip())
    found = (PeriodRow(**cast(dict[str, Any], {name: record.get(name) for name in names})) for record in rows if isinstance(record, dict))
    return {row.period: row for row in found}


def read_body(store: ArchiveStore) -> bytes | None:
    """The uncompressed JSON Lines of the type's current object, or None when there is none."""
    try:
        response = store.s3.get_object(**store.args(Key=periods_key(store.prefix, store.report)))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return gzip.decompress(response["Body"].read())


def write(store: ArchiveStore, rows: list[PeriodRow], previous: bytes | None) -> bool:
    """Put the rows as one object (a reader sees the old or the new one whole) unless they equal `previous`; True if written."""
    body = encode(rows)
    if body == previous:
        return False
    metadata = {"sha256": hashlib.sha256(body).hexdigest(), "rows": str(len(rows))}
    packed = gzip.compress(body, mtime=0)  # the same rows, the same bytes
    key = periods_key(store.prefix, store.report)
    store.s3.put_object(**store.args(Key=key, Body=packed, ContentType="application/gzip", Metadata=metadata))
    return True
