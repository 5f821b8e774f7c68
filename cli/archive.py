"""A read-only model of the archive: the bucket's keys by month (listing + HEADs), partitions and open uploads."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archiver.catalog import Catalog
from archiver.months import Month
from archiver.store import ArchiveStore
from cli.otherkeys import is_other_report_key

if TYPE_CHECKING:
    from cli.target import Target

REPORT = "sales"
MARKERS = ("not_found", "deferred", "pending")
_PART = r"year=(?P<year>\d{4})/month=(?P<month>\d{2})/"


@dataclass
class Item:
    """One object: key, size, last-modified time, and (for raw and curated objects) its metadata."""

    key: str
    size: int
    modified: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class MonthRecord:
    """Everything the bucket and the catalog hold for one month."""

    month: Month
    raw: list[Item] = field(default_factory=list)
    curated: Item | None = None
    markers: dict[str, Item] = field(default_factory=dict)
    quarantine: list[Item] = field(default_factory=list)
    partition: str | None = None  # the registered partition's location


@dataclass
class Archive:
    """The whole archive as read at one moment."""

    store: ArchiveStore
    months: dict[Month, MonthRecord]
    stray: list[Item]
    uploads: list[tuple[str, str]]  # (key, upload id) of incomplete multipart uploads
    table: dict[str, Any]  # the Glue table

    def record(self, month: Month) -> MonthRecord:
        """The month's record (an empty one when the archive holds nothing for it)."""
        return self.months.get(month) or MonthRecord(month)


class Layout:
    """Classify a key under the prefix by the function's own layout (archiver.store)."""

    def __init__(self, store: ArchiveStore) -> None:
        base = re.escape(store.prefix)
        self.store = store
        self.raw = re.compile(rf"{base}raw/{REPORT}/{_PART}(?P<name>[^/]+)")
        self.curated = re.compile(rf"{base}{REPORT}/{_PART}(?P<name>[^/]+)")
        self.marker = re.compile(rf"{base}state/{REPORT}/(?P<kind>{'|'.join(MARKERS)})/(?P<ym>\d{{4}}-\d{{2}})\.json")
        self.quarantine = re.compile(rf"{base}quarantine/{REPORT}/{_PART}(?P<name>[0-9a-f]{{64}}-[^/]+)")

    def classify(self, key: str) -> tuple[str, Month] | None:
        """('raw'|'curated'|'quarantine'|marker kind, month), or None for a stray key."""
        try:
            if match := self.raw.fullmatch(key):
                return "raw", Month.parse(f"{match['year']}-{match['month']}")
            if (match := self.curated.fullmatch(key)) and self.store.curated_key(
                month := Month.parse(f"{match['year']}-{match['month']}")
            ) == key:
                return "curated", month
            if match := self.marker.fullmatch(key):
                return match["kind"], Month.parse(match["ym"])
            if match := self.quarantine.fullmatch(key):
                return "quarantine", Month.parse(f"{match['year']}-{match['month']}")
        except ValueError:  # month 00 or 13: not a month of the layout
            return None
        return None


def _items(s3: Any, bucket: str, prefix: str) -> list[Item]:
    """Every object under the prefix."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [Item(o["Key"], o["Size"], o["LastModified"]) for page in pages for o in page.get("Contents", [])]


def _uploads(s3: Any, bucket: str, prefix: str) -> list[tuple[str, str]]:
    """Incomplete multipart uploads under the prefix."""
    pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
    return [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])]


def read_archive(target: Target) -> Archive:
    """List the prefix once, HEAD the raw and curated objects, and read the table's partitions."""
    s3, glue = target.s3(), target.glue()
    store = ArchiveStore(s3, target.bucket, target.prefix, REPORT)
    layout = Layout(store)
    months: dict[Month, MonthRecord] = {}
    stray: list[Item] = []
    for item in _items(s3, target.bucket, target.prefix):
        kind = layout.classify(item.key)
        if kind is None and is_other_report_key(target.prefix, item.key):
            continue  # another report type's key (this audit covers sales)
        if kind is None:
            stray.append(item)
            continue
        record = months.setdefault(kind[1], MonthRecord(kind[1]))
        if kind[0] == "raw":
            record.raw.append(item)
        elif kind[0] == "curated":
            record.curated = item
        elif kind[0] == "quarantine":
            record.quarantine.append(item)
        else:
            record.markers[kind[0]] = item
    heads = [i for r in months.values() for i in (*r.raw, *([r.curated] if r.curated else []))]

    def head(item: Item) -> None:
        item.metadata = dict(s3.head_object(Bucket=target.bucket, Key=item.key).get("Metadata", {}))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(head, heads))
    catalog = Catalog(glue, target.database, target.table)
    table = glue.get_table(DatabaseName=target.database, Name=target.table)["Table"]
    for (year, mm), location in catalog.partitions().items():
        try:
            month = Month.parse(f"{year}-{mm}")
        except ValueError:
            continue
        months.setdefault(month, MonthRecord(month)).partition = location
    uploads = _uploads(s3, target.bucket, target.prefix)
    return Archive(store, dict(sorted(months.items())), stray, uploads, dict(table))
