"""A read-only model of the archive: the bucket's keys by report type and period (listing + HEADs), tables and uploads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archiver.core.periods import Period
from archiver.core.report_types import ReportType
from archiver.storage import lease
from archiver.storage.store import ArchiveStore
from cli.layout import classify_key, own_folders
from cli.tables import TableView, read_table

if TYPE_CHECKING:
    from cli.target import Target


@dataclass
class Item:
    """One object: key, size, last-modified time, and (for raw and curated objects) its metadata."""

    key: str
    size: int
    modified: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class MonthRecord:
    """Everything the bucket and the catalog hold for one period (a month, or a year for a yearly type)."""

    month: Period
    raw: list[Item] = field(default_factory=list)
    curated: Item | None = None
    markers: dict[str, Item] = field(default_factory=dict)
    quarantine: list[Item] = field(default_factory=list)
    partition: str | None = None  # the registered partition's location


@dataclass
class ReportArchive:
    """One report type's share of the archive: its periods, its Glue table and its `unsupported` marker."""

    report: ReportType
    store: ArchiveStore
    months: dict[Period, MonthRecord]
    table: TableView
    unsupported: Item | None = None

    def record(self, period: Period) -> MonthRecord:
        """The period's record (an empty one when the archive holds nothing for it)."""
        return self.months.get(period) or MonthRecord(period)


@dataclass
class Archive:
    """The whole archive as read at one moment: the chosen report types, and what belongs to no type's layout."""

    reports: dict[str, ReportArchive]
    stray: list[Item]
    uploads: list[tuple[str, str]]  # (key, upload id) of incomplete multipart uploads


def _items(s3: Any, bucket: str, prefix: str) -> list[Item]:
    """Every object in the archive's own folders under the prefix (another writer's objects beside them are not listed)."""
    pages = (page for folder in own_folders(prefix) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder))
    return [Item(o["Key"], o["Size"], o["LastModified"]) for page in pages for o in page.get("Contents", [])]


def _uploads(s3: Any, bucket: str, prefix: str) -> list[tuple[str, str]]:
    """Incomplete multipart uploads in the archive's own folders."""
    pages = (p for folder in own_folders(prefix) for p in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=folder))
    return [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])]


def _file(part: ReportArchive, kind: str, period: Period | None, item: Item) -> None:
    """Put one classified object into its report type's records."""
    if kind == "columns":  # the typed views' summary: derived from the curated objects, rebuilt by the next run if lost
        return
    if period is None:
        if kind == "unsupported":
            part.unsupported = item
        return
    if kind == "history":  # the archive's own (archiver.answers.history), derived from the raw versions: not a period's state
        return
    record = part.months.setdefault(period, MonthRecord(period))
    if kind == "raw":
        record.raw.append(item)
    elif kind == "curated":
        record.curated = item
    elif kind == "quarantine":
        record.quarantine.append(item)
    else:
        record.markers[kind] = item


def read_archive(target: Target, reports: tuple[ReportType, ...]) -> Archive:
    """List the archive's own folders once, HEAD the chosen types' raw and curated objects, and read their tables' partitions."""
    s3, glue = target.s3(), target.glue()
    parts = {r.name: ReportArchive(r, ArchiveStore(s3, target.bucket, target.prefix, r), {}, read_table(glue, target, r)) for r in reports}
    stray: list[Item] = []
    for item in _items(s3, target.bucket, target.prefix):
        kind = classify_key(target.prefix, item.key)
        if item.key == target.prefix + lease.KEY:  # the runs' lease (archiver.storage.lease): one is writing, or was killed
            continue
        if kind is None:
            stray.append(item)
        elif kind[0].name in parts:  # another type's keys belong to the layout, but are not looked at
            _file(parts[kind[0].name], kind[1], kind[2], item)
    heads = [i for p in parts.values() for r in p.months.values() for i in (*r.raw, *([r.curated] if r.curated else []))]

    def head(item: Item) -> None:
        item.metadata = dict(s3.head_object(Bucket=target.bucket, Key=item.key).get("Metadata", {}))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(head, heads))
    for part in parts.values():
        for period, location in part.table.partitions.items():
            part.months.setdefault(period, MonthRecord(period)).partition = location
        part.months = dict(sorted(part.months.items()))
    return Archive(parts, stray, _uploads(s3, target.bucket, target.prefix))
