"""Roll a committed month forward without Amazon: curate the committed raw object again when the curated one is not made from it."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from archiver.objects import TXN, put_file
from archiver.prepare import curate_as, fingerprint
from archiver.store import ArchiveStore, Stored

CHUNK = 1 << 20


def made_from(store: ArchiveStore, curated: Stored | None, raw: Stored) -> bool:
    """Whether the curated object records the raw object's bytes as its source, in the type's current format."""
    if curated is None:
        return False
    source, columns = curated.metadata.get("source-sha256"), curated.metadata.get("columns")
    return source == raw.metadata.get("sha256") and columns == fingerprint(store.report)


def recurate(store: ArchiveStore, raw: Stored, curated_key: str, txn: str) -> None:
    """Curate the raw object's bytes (checked against its sha256) and upload the result as the month's curated object, of `txn`.

    The transaction that committed the raw object had curated these bytes under the decompression cap, so no cap is applied.
    """
    with tempfile.TemporaryDirectory(prefix="appstore-") as scratch:
        source, target = Path(scratch) / "raw", Path(scratch) / "curated.csv.gz"
        extra = {"VersionId": raw.version} if raw.version else {}
        body = store.s3.get_object(**store.args(Key=raw.key, **extra))["Body"]
        digest = hashlib.sha256()
        with open(source, "wb") as out:
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != raw.metadata.get("sha256"):
            raise RuntimeError(f"{raw.key}: its bytes do not match its sha256 metadata; not curated")
        with open(target, "wb") as out:
            curated = curate_as(store.report, source, out, None)
        metadata = {"sha256": curated.sha256, "columns": fingerprint(store.report), "rows": str(curated.rows)}
        put_file(store, curated_key, target, {**metadata, "source-sha256": digest.hexdigest(), TXN: txn}, "application/gzip")
