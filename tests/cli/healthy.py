"""A healthy archive written directly by the shared contract (real curation by archiver.convert.curate)."""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.catalog import Catalog
from archiver.convert import COLUMNS_FINGERPRINT, curate
from archiver.months import Month
from archiver.store import ArchiveStore

HEADER = "Marketplace,Country Code,Transaction ID,Transaction Time,Title,Units,Sales Price,Marketplace Currency\n"


def report_bytes(month: Month, rows: int = 3) -> bytes:
    """A small gzip sales report as Amazon might serve it."""
    lines = [HEADER]
    for n in range(rows):
        lines.append(f'amazon.com,US,tx-{month}-{n},{month}-02T10:0{n}:00Z,"The ""Quiet"" Garden",1,{n}.99,USD\n')
    return gzip.compress("".join(lines).encode(), mtime=0)


@dataclass
class Healthy:
    """Names of one archive and the helpers that write it."""

    s3: Any
    glue: Any
    bucket: str
    prefix: str
    database: str
    table: str

    @property
    def store(self) -> ArchiveStore:
        """The function's own layout for this archive."""
        return ArchiveStore(self.s3, self.bucket, self.prefix)

    def curated_of(self, raw: bytes, tmp: Path) -> tuple[bytes, int]:
        """The curated bytes and row count of a raw report (real curation)."""
        source = tmp / "raw.gz"
        source.write_bytes(raw)
        target = io.BytesIO()
        facts = curate(source, target)
        return target.getvalue(), facts.rows

    def archive(self, month: Month, tmp: Path, rows: int = 3) -> None:
        """Write the month as a run does: curated, raw, partition."""
        raw = report_bytes(month, rows)
        raw_sha = hashlib.sha256(raw).hexdigest()
        curated, count = self.curated_of(raw, tmp)
        metadata = {
            "sha256": hashlib.sha256(curated).hexdigest(),
            "columns": COLUMNS_FINGERPRINT,
            "rows": str(count),
            "source-sha256": raw_sha,
            "txn": "t-fixture",
        }
        store = self.store
        self.s3.put_object(Bucket=self.bucket, Key=store.curated_key(month), Body=curated, Metadata=metadata)
        raw_key = store.raw_prefix(month) + f"sales_{month.year}_{month.mm}.csv.gz"
        self.s3.put_object(Bucket=self.bucket, Key=raw_key, Body=raw, Metadata={"sha256": raw_sha, "txn": "t-fixture"})
        Catalog(self.glue, self.database, self.table).ensure_partition([f"{month.year:04d}", month.mm], store.location(month))

    def marker(self, kind: str, month: Month) -> str:
        """Put a state marker (not_found, deferred, pending); its key."""
        key = f"{self.prefix}state/sales/{kind}/{month}.json"
        body = f'{{"month": "{month}", "status": "{kind}", "force": false}}'
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        return key

    def raw_key(self, month: Month) -> str:
        """The month's one raw key."""
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=self.store.raw_prefix(month))
        (item,) = listing["Contents"]
        return str(item["Key"])

    def replace(self, key: str, body: bytes | None = None, **metadata: str | None) -> None:
        """Rewrite an object, changing its body and/or metadata (a None value removes a field)."""
        current = self.s3.get_object(Bucket=self.bucket, Key=key)
        merged = {k: v for k, v in {**current["Metadata"], **metadata}.items() if v is not None}
        data = current["Body"].read() if body is None else body
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata=merged)
