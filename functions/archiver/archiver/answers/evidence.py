"""What the bucket holds for a report type's periods: current raw objects, state markers, quarantined files, with their times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from archiver.core.periods import Period
from archiver.storage.store import ArchiveStore

MARKERS = ("not_found", "deferred", "pending")


@dataclass
class Seen:
    """What the bucket holds for one period: current raw objects, markers and quarantined files, with their times."""

    raw: dict[str, datetime] = field(default_factory=dict)  # key -> LastModified
    markers: dict[str, datetime] = field(default_factory=dict)  # not_found / deferred / pending -> LastModified
    quarantined: datetime | None = None  # the newest quarantined file's LastModified
    curated: bool = False  # the period's curated object is there


def iso(moment: datetime) -> str:
    """A time as the table writes it: ISO 8601 in UTC, seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def gather(store: ArchiveStore) -> tuple[dict[Period, Seen], bool]:
    """Four listings (raw, curated, quarantine, state): each period's evidence, and whether the type is marked unsupported."""
    report, prefix = store.report, store.prefix
    seen: dict[Period, Seen] = {}
    for item in store.listing(f"{prefix}raw/{report.name}/"):
        if (period := report.period_in_key(item["Key"])) is not None:
            seen.setdefault(period, Seen()).raw[item["Key"]] = item["LastModified"]
    for item in store.listing(report.table_prefix(prefix)):
        if (period := report.period_in_key(item["Key"])) is not None and item["Key"] == store.curated_key(period):
            seen.setdefault(period, Seen()).curated = True
    for item in store.listing(f"{prefix}quarantine/{report.name}/"):
        if (period := report.period_in_key(item["Key"])) is not None:
            entry = seen.setdefault(period, Seen())
            entry.quarantined = max(filter(None, (entry.quarantined, item["LastModified"])))
    unsupported = False
    for item in store.listing(f"{prefix}state/{report.name}/"):
        unsupported |= item["Key"] == report.unsupported_key(prefix)
        kind, _, name = item["Key"][len(f"{prefix}state/{report.name}/") :].partition("/")
        try:
            period = report.parse_period(name.removesuffix(".json"))
        except ValueError:
            continue
        if kind in MARKERS and report.state_key(prefix, kind, period) == item["Key"]:
            seen.setdefault(period, Seen()).markers[kind] = item["LastModified"]
    return seen, unsupported


def first_version(store: ArchiveStore, period: Period) -> datetime | None:
    """When the period's raw folder got its first object (noncurrent raw versions are never expired)."""
    pages = store.s3.get_paginator("list_object_versions").paginate(**store.args(Prefix=store.raw_prefix(period)))
    return min((v["LastModified"] for page in pages for v in page.get("Versions", [])), default=None)
