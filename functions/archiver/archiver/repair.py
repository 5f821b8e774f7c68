"""Roll a committed month forward from its archived raw object: re-curate it in place, with no request to Amazon."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from archiver.hashing import HashingWriter
from archiver.objects import TXN, put_file
from archiver.prepare import curate_file, fingerprint
from archiver.store import ArchiveStore, Stored


class RawMismatch(RuntimeError):
    """The raw object's bytes are not the ones its sha256 metadata names: it is not re-curated."""


def recurate(store: ArchiveStore, raw: Stored, curated_key: str, txn: str, max_bytes: int | None) -> None:
    """Write the curated object made from this raw object version (the bytes Amazon served), tagged with transaction `txn`."""
    with tempfile.TemporaryDirectory(prefix="appstore-repair-") as scratch:
        source, target = Path(scratch) / "raw", Path(scratch) / "curated.csv.gz"
        version = {"VersionId": raw.version} if raw.version else {}
        body = store.s3.get_object(**store.args(Key=raw.key, **version))["Body"]
        try:
            with open(source, "wb") as out:
                hashed = HashingWriter(out)
                shutil.copyfileobj(body, hashed, 1024 * 1024)
        finally:
            body.close()
        sha256 = hashed.digest.hexdigest()
        if sha256 != raw.metadata.get("sha256"):
            raise RawMismatch(f"{raw.key} holds bytes with SHA-256 {sha256}, its metadata names {raw.metadata.get('sha256')}")
        curated = curate_file(store.report, source, target, max_bytes)
        metadata = {"sha256": curated.sha256, "columns": fingerprint(store.report), "rows": str(curated.rows), "source-sha256": sha256}
        put_file(store, curated_key, target, {**metadata, TXN: txn}, "application/gzip")
