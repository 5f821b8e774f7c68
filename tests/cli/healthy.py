"""A healthy archive written directly by the shared contract (real curation: archiver.formats.sales_csv and archiver.formats.sections)."""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.core.months import Month
from archiver.core.periods import Period
from archiver.core.report_types import BY_NAME, ReportType
from archiver.formats.sales_csv import COLUMNS_FINGERPRINT, curate
from archiver.formats.sections import FORMAT_FINGERPRINT, curate_sections
from archiver.storage.catalog import Catalog
from archiver.storage.store import ArchiveStore

HEADER = "Marketplace,Country Code,Transaction ID,Transaction Time,Title,Units,Sales Price,Marketplace Currency\n"


def report_bytes(month: Month, rows: int = 3) -> bytes:
    """A small gzip sales report as Amazon might serve it."""
    lines = [HEADER]
    for n in range(rows):
        lines.append(f'amazon.com,US,tx-{month}-{n},{month}-02T10:0{n}:00Z,"The ""Quiet"" Garden",1,{n}.99,USD\n')
    return gzip.compress("".join(lines).encode(), mtime=0)


def other_report_bytes(report: ReportType, period: Period) -> bytes:
    """A small CSV of a non-sales type: one table for a monthly type, titled blocks with notes for the yearly one."""
    if report.period == "month":
        return f'Marketplace,Payment Amount,Date\namazon.com,"1,234.50",{period}-28\namazon.de,(4.18),{period}-28\n'.encode()
    return (
        f'Earnings Report {period}\n\nNotes\nAmounts are final\n\nSummary\nMarketplace,Total\namazon.com,"3,121"\n\n'
        f"Detail\nMarketplace,Invoice,Payment Amount\namazon.com,inv-1,100.00\namazon.com,inv-2,(4.18)\n"
    ).encode()


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
        """The function's own layout for this archive (sales)."""
        return ArchiveStore(self.s3, self.bucket, self.prefix)

    def store_of(self, report: str) -> ArchiveStore:
        """The function's own layout of one report type."""
        return ArchiveStore(self.s3, self.bucket, self.prefix, report)

    def table_of(self, report: str) -> str:
        """The report type's Glue table."""
        return BY_NAME[report].table_name(self.table)

    def curated_of(self, raw: bytes, tmp: Path) -> tuple[bytes, int]:
        """The curated bytes and row count of a raw report (real curation)."""
        source = tmp / "raw.gz"
        source.write_bytes(raw)
        target = io.BytesIO()
        facts = curate(source, target)
        return target.getvalue(), facts.rows

    def archive(self, month: Month, tmp: Path, rows: int = 3, raw: bytes | None = None) -> None:
        """Write the month as a run does (curated, raw, partition): `raw` as Amazon's file, by default `rows` rows of report_bytes."""
        raw = raw if raw is not None else report_bytes(month, rows)
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

    def archive_other(self, report: str, period: Period, tmp: Path) -> None:
        """Write a period of a JSON Lines type as a run does (archiver.formats.sections curation): curated, raw, partition."""
        kind, store = BY_NAME[report], self.store_of(report)
        raw = gzip.compress(other_report_bytes(kind, period), mtime=0)
        source, target = tmp / f"{report}.raw", io.BytesIO()
        source.write_bytes(raw)
        facts = curate_sections(source, target)
        raw_sha, curated = hashlib.sha256(raw).hexdigest(), target.getvalue()
        metadata = {"sha256": facts.sha256, "columns": FORMAT_FINGERPRINT, "rows": str(facts.rows), "source-sha256": raw_sha, "txn": "t"}
        self.s3.put_object(Bucket=self.bucket, Key=store.curated_key(period), Body=curated, Metadata=metadata)
        raw_key = store.raw_prefix(period) + f"{report}_{period}.csv.gz"
        self.s3.put_object(Bucket=self.bucket, Key=raw_key, Body=raw, Metadata={"sha256": raw_sha, "txn": "t"})
        catalog = Catalog(self.glue, self.database, self.table_of(report), kind.partition_keys)
        catalog.ensure_partition(kind.partition_values(period), store.location(period))

    def marker(self, kind: str, month: Period, report: str = "sales") -> str:
        """Put a state marker (not_found, deferred, pending); its key."""
        key = BY_NAME[report].state_key(self.prefix, kind, month)
        body = f'{{"month": "{month}", "status": "{kind}", "force": false}}'
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        return key

    def raw_key(self, month: Period, report: str = "sales") -> str:
        """The period's one raw key."""
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=self.store_of(report).raw_prefix(month))
        (item,) = listing["Contents"]
        return str(item["Key"])

    def replace(self, key: str, body: bytes | None = None, **metadata: str | None) -> None:
        """Rewrite an object, changing its body and/or metadata (a None value removes a field)."""
        current = self.s3.get_object(Bucket=self.bucket, Key=key)
        merged = {k: v for k, v in {**current["Metadata"], **metadata}.items() if v is not None}
        data = current["Body"].read() if body is None else body
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata=merged)
