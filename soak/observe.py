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
from typing import TYPE_CHECKING, Any, NamedTuple

from archiver.reports import REPORT_TYPES

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any

MONTHLY = {r.name: r.period == "month" for r in REPORT_TYPES}  # every report type, and whether its period is a month
SUFFIX = {r.name: r.table_suffix for r in REPORT_TYPES}  # the type's Glue table: GLUE_TABLE + suffix


class Slot(NamedTuple):
    """One period of one report type: ("sales", "2026-11"), ("earnings_yearly", "2026")."""

    report: str
    period: str  # YYYY-MM, or YYYY for a yearly type

    def __str__(self) -> str:
        return self.period if self.report == "sales" else f"{self.report} {self.period}"

    @property
    def folders(self) -> str:
        """The partition folders: `year=YYYY/month=MM/` or `year=YYYY/`."""
        year, _, month = self.period.partition("-")
        return f"year={year}/" + (f"month={month}/" if month else "")

    def earlier(self) -> Slot:
        """The same period a year earlier (where a drawn change points a partition)."""
        year, dash, month = self.period.partition("-")
        return Slot(self.report, f"{int(year) - 1:04d}{dash}{month}")


def slot(report: str, year: str, month: str | None) -> Slot | None:
    """The slot a key's type and partition folders name, or None if they do not fit the type's period."""
    if report not in MONTHLY or MONTHLY[report] != (month is not None) or (month is not None and not 1 <= int(month) <= 12):
        return None
    return Slot(report, f"{year}-{month}" if month else year)


@dataclass(frozen=True)
class Obj:
    """One current object: its version, the SHA-256 of its bytes, its metadata, and whether it reads back whole."""

    key: str
    version: str
    sha256: str
    metadata: dict[str, str]
    whole: bool  # curated: the gzip stream decompresses completely; other objects: True
    body: bytes = field(default=b"", repr=False, compare=False)  # raw and curated objects and state markers only


class Layout:
    """The contract's keys under the prefix, for every report type."""

    def __init__(self, bucket: str, prefix: str) -> None:
        p, types, period = re.escape(prefix), "|".join(MONTHLY), r"year=(\d{4})/(?:month=(\d{2})/)?"
        self.bucket, self.prefix = bucket, prefix
        self.raw = re.compile(rf"{p}raw/({types})/{period}([^/]+)")
        self.curated = re.compile(rf"{p}({types})/{period}[^/]+")  # the exact name is checked by `curated_key`
        self.marker = re.compile(rf"{p}state/({types})/(not_found|deferred|pending)/(\d{{4}})(?:-(\d{{2}}))?\.json")
        self.quarantine = re.compile(rf"{p}quarantine/({types})/{period}[0-9a-f]{{64}}-[^/]+")
        self.other_state = re.compile(rf"{p}state/(?:lease\.json|(?:{types})/unsupported\.json)")  # the archive lease

    def slot_of(self, key: str) -> tuple[str, Slot] | None:
        """("raw"|"curated"|marker kind, slot) of a raw object, a curated object or a state marker."""
        if m := self.raw.fullmatch(key):
            found = slot(m[1], m[2], m[3])
            return ("raw", found) if found else None
        if m := self.marker.fullmatch(key):
            found = slot(m[1], m[3], m[4])
            return (m[2], found) if found else None
        if (m := self.curated.fullmatch(key)) and (found := slot(m[1], m[2], m[3])) and key == self.curated_key(found):
            return "curated", found
        return None

    def curated_key(self, at: Slot) -> str:
        """The slot's one curated object: `{type}/year=YYYY[/month=MM]/{type}_YYYY[_MM].csv.gz` (sales) or `.json.gz`."""
        stem = "_".join((at.report, *at.period.split("-")))
        return f"{self.prefix}{at.report}/{at.folders}{stem}.{'csv' if at.report == 'sales' else 'json'}.gz"

    def marker_key(self, at: Slot, kind: str) -> str:
        """The slot's state marker of this kind."""
        return f"{self.prefix}state/{at.report}/{kind}/{at.period}.json"

    def location(self, at: Slot) -> str:
        """The partition location of a slot."""
        return f"s3://{self.bucket}/{self.prefix}{at.report}/{at.folders}"


@dataclass(frozen=True)
class Archive:
    """The archive bucket's current objects and the tables' partitions at one moment."""

    layout: Layout
    objects: dict[str, Obj]
    partitions: dict[Slot, str]

    def raw(self, at: Slot) -> list[Obj]:
        """The slot's current raw objects."""
        return [o for k, o in sorted(self.objects.items()) if self.layout.slot_of(k) == ("raw", at)]

    def curated(self, at: Slot) -> Obj | None:
        """The slot's curated object."""
        return self.objects.get(self.layout.curated_key(at))

    def markers(self, kind: str) -> set[Slot]:
        """Slots with a state marker of this kind (not_found, deferred, pending)."""
        return {found[1] for k in self.objects if (found := self.layout.slot_of(k)) and found[0] == kind}

    def slots(self) -> set[Slot]:
        """Slots holding a raw or a curated object."""
        return {found[1] for k in self.objects if (found := self.layout.slot_of(k)) and found[0] in ("raw", "curated")}

    def stray(self) -> list[str]:
        """Keys outside the contract's layout."""
        lay = self.layout

        def allowed(key: str) -> bool:
            if m := lay.quarantine.fullmatch(key):
                return slot(m[1], m[2], m[3]) is not None
            return bool(lay.slot_of(key) or lay.other_state.fullmatch(key))

        return sorted(k for k in self.objects if not allowed(k))

    def state(self, at: Slot) -> tuple[dict[str, str], str | None, str | None]:
        """What must not change for a failed slot: raw key -> version, curated version, partition location."""
        curated = self.curated(at)
        return {o.key: o.version for o in self.raw(at)}, curated.version if curated else None, self.partitions.get(at)


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
            kind = (layout.slot_of(item["Key"]) or ("", None))[0]
            sha, kept = hashlib.sha256(body).hexdigest(), body if kind else b""
            objects[item["Key"]] = Obj(
                item["Key"], str(got.get("VersionId")), sha, dict(got.get("Metadata", {})), kind != "curated" or _whole_gzip(body), kept
            )
    return Archive(layout, objects, partitions(glue, database, table))


def partitions(glue: GlueClient, database: str, table: str) -> dict[Slot, str]:
    """Every partition of every type's table (GLUE_TABLE + the type's suffix): slot -> location."""
    found: dict[Slot, str] = {}
    for report, suffix in SUFFIX.items():
        for listing in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table + suffix):
            for partition in listing["Partitions"]:
                values = partition["Values"]
                found[Slot(report, "-".join(values))] = partition.get("StorageDescriptor", {}).get("Location", "")
    return found


def made_from(raw: Obj, curated: Obj, report: str) -> bool | None:
    """Whether curating the raw bytes again gives the curated bytes (None: the raw bytes cannot be curated)."""
    from archiver.convert import curate as curate_csv
    from archiver.sections import curate_sections

    curate = curate_csv if report == "sales" else curate_sections

    with tempfile.TemporaryDirectory(prefix="soak-check-") as scratch:
        source = Path(scratch) / "raw"
        source.write_bytes(raw.body)
        target = io.BytesIO()
        try:
            curate(source, target)
        except Exception:
            return None
    return target.getvalue() == curated.body
