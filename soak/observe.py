"""Read the archive as it is, straight from moto (never through the fault proxy): objects, metadata, partitions."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.months import Month

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any


@dataclass(frozen=True)
class Obj:
    """One current object: its version, the SHA-256 of its bytes, its metadata, and whether it reads back whole."""

    key: str
    version: str
    sha256: str
    metadata: dict[str, str]
    whole: bool  # curated and history copies: the gzip stream decompresses completely; other objects: True
    body: bytes = field(default=b"", repr=False, compare=False)  # raw and curated objects and state markers only


class Layout:
    """The contract's keys under the prefix."""

    def __init__(self, bucket: str, prefix: str) -> None:
        p = re.escape(prefix)
        self.bucket, self.prefix = bucket, prefix
        self.raw = re.compile(rf"{p}raw/sales/year=(\d{{4}})/month=(\d{{2}})/([^/]+)")
        self.curated = re.compile(rf"{p}sales/year=(\d{{4}})/month=(\d{{2}})/sales_(\d{{4}})_(\d{{2}})\.csv\.gz")
        self.marker = re.compile(rf"{p}state/sales/(not_found|deferred|pending)/(\d{{4}})-(\d{{2}})\.json")
        self.quarantine = re.compile(rf"{p}quarantine/sales/year=\d{{4}}/month=\d{{2}}/[0-9a-f]{{64}}-[^/]+")
        self.periods = re.compile(rf"{p}periods/sales\.json\.gz")  # the periods table's sales object
        self.history = re.compile(rf"{p}history/sales/year=\d{{4}}/month=\d{{2}}/\d{{8}}T\d{{6}}Z-[0-9a-f]{{64}}\.csv\.gz")

    def location(self, month: Month) -> str:
        """The partition location of a month."""
        return f"s3://{self.bucket}/{self.prefix}sales/year={month.year:04d}/month={month.mm}/"


@dataclass(frozen=True)
class Archive:
    """The archive bucket's current objects and the table's partitions at one moment."""

    layout: Layout
    objects: dict[str, Obj]
    partitions: dict[Month, str]

    def raw(self, month: Month) -> list[Obj]:
        """The month's current raw objects."""
        return [o for k, o in sorted(self.objects.items()) if (m := self.layout.raw.fullmatch(k)) and Month(int(m[1]), int(m[2])) == month]

    def curated(self, month: Month) -> Obj | None:
        """The month's curated object."""
        key = f"{self.layout.prefix}sales/year={month.year:04d}/month={month.mm}/sales_{month.year:04d}_{month.mm}.csv.gz"
        return self.objects.get(key)

    def markers(self, kind: str) -> set[Month]:
        """Months with a state marker of this kind (not_found, deferred, pending)."""
        return {Month(int(m[2]), int(m[3])) for k in self.objects if (m := self.layout.marker.fullmatch(k)) and m[1] == kind}

    def months(self) -> set[Month]:
        """Months holding a raw or a curated object."""
        found = set()
        for key in self.objects:
            if m := self.layout.raw.fullmatch(key) or self.layout.curated.fullmatch(key):
                found.add(Month(int(m[1]), int(m[2])))
        return found

    def stray(self) -> list[str]:
        """Keys outside the contract's layout."""
        lay = self.layout

        def allowed(key: str) -> bool:
            curated = lay.curated.fullmatch(key)
            if curated:
                return (curated[1], curated[2]) == (curated[3], curated[4])
            return bool(
                lay.raw.fullmatch(key)
                or lay.marker.fullmatch(key)
                or lay.quarantine.fullmatch(key)
                or lay.periods.fullmatch(key)
                or lay.history.fullmatch(key)
            )

        return sorted(k for k in self.objects if not allowed(k))

    def state(self, month: Month) -> tuple[dict[str, str], str | None, str | None]:
        """What must not change for a failed month: raw key -> version, curated version, partition location."""
        curated = self.curated(month)
        return {o.key: o.version for o in self.raw(month)}, curated.version if curated else None, self.partitions.get(month)


def _whole_gzip(body: bytes) -> bool:
    try:
        gzip.decompress(body)
    except (OSError, EOFError, zlib.error):
        return False
    return True


def observe(s3: S3Client, glue: GlueClient, layout: Layout, database: str, table: str) -> Archive:
    """Read every current object under the prefix (bytes hashed, metadata kept) and every partition."""
    objects: dict[str, Obj] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=layout.bucket, Prefix=layout.prefix):
        for item in page.get("Contents", []):
            got = s3.get_object(Bucket=layout.bucket, Key=item["Key"])
            body = got["Body"].read()
            curated, raw = layout.curated.fullmatch(item["Key"]), layout.raw.fullmatch(item["Key"])
            marker = layout.marker.fullmatch(item["Key"])
            gzipped = curated or layout.history.fullmatch(item["Key"])  # read back whole: the curated and history copies
            sha, kept = hashlib.sha256(body).hexdigest(), body if curated or raw or marker else b""
            objects[item["Key"]] = Obj(
                item["Key"], str(got.get("VersionId")), sha, dict(got.get("Metadata", {})), not gzipped or _whole_gzip(body), kept
            )
    return Archive(layout, objects, partitions(glue, database, table))


def partitions(glue: GlueClient, database: str, table: str) -> dict[Month, str]:
    """Every partition of the table: month -> location."""
    found: dict[Month, str] = {}
    for listing in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table):
        for partition in listing["Partitions"]:
            year, month = partition["Values"]
            found[Month(int(year), int(month))] = partition.get("StorageDescriptor", {}).get("Location", "")
    return found


def made_from(raw: Obj, curated: Obj) -> bool | None:
    """Whether curating the raw bytes again gives the curated bytes (None: the raw bytes cannot be curated)."""
    from archiver.convert import curate

    with tempfile.TemporaryDirectory(prefix="soak-check-") as scratch:
        source = Path(scratch) / "raw"
        source.write_bytes(raw.body)
        target = io.BytesIO()
        try:
            curate(source, target)
        except Exception:
            return None
    return target.getvalue() == curated.body
