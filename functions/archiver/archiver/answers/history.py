"""The restatement history: one immutable curated copy of every raw object version (every file Amazon served)."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import ClientError

from archiver.core.periods import Period
from archiver.core.report_types import ReportType
from archiver.storage.remake import fetch_raw
from archiver.storage.store import ArchiveStore

HISTORY_COLUMNS: tuple[str, ...] = ("fetched_at", "source_sha256")  # after the canonical columns; template.yaml lists both
NAME = re.compile(r"(\d{8}T\d{6}Z)-([0-9a-f]{64})\.csv\.gz")  # a history object's name: <fetched>-<sha256>.csv.gz


@dataclass(frozen=True)
class RawVersion:
    """One version of a period's raw object: what Amazon served, and when the archive stored it (its LastModified)."""

    period: Period
    key: str
    version: str | None
    fetched: datetime

    @property
    def stamp(self) -> str:
        """The fetch time as it leads the history object's name, e.g. `20240305T101112Z` (UTC)."""
        return self.fetched.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def history_folder(prefix: str, report: ReportType) -> str:
    """The history table's location below the bucket: `{prefix}history/{type}/`."""
    return f"{prefix}history/{report.name}/"


def history_prefix(store: ArchiveStore) -> str:
    """The store's history folder."""
    return history_folder(store.prefix, store.report)


def history_location(store: ArchiveStore, period: Period) -> str:
    """The Glue partition location of a period's history."""
    return f"s3://{store.bucket}/{history_prefix(store)}{store.report.partition_path(period)}"


def history_key(store: ArchiveStore, raw: RawVersion, sha256: str) -> str:
    """`{prefix}history/{type}/year=YYYY/month=MM/<fetched>-<sha256>.csv.gz`: one per raw version, never rewritten."""
    return f"{history_prefix(store)}{store.report.partition_path(raw.period)}{raw.stamp}-{sha256}.csv.gz"


def raw_versions(store: ArchiveStore) -> list[RawVersion]:
    """Every stored version of every raw object of the type (delete markers left out), from one listing."""
    prefix = f"{store.prefix}raw/{store.report.name}/"
    pages = store.s3.get_paginator("list_object_versions").paginate(**store.args(Prefix=prefix))
    found: list[RawVersion] = []
    for page in pages:
        for item in page.get("Versions", []):
            period = store.report.period_in_key(item["Key"])
            if period is not None:
                version = item.get("VersionId")
                found.append(RawVersion(period, item["Key"], None if version in (None, "null") else version, item["LastModified"]))
    return found


def copied(store: ArchiveStore) -> Counter[tuple[Period, str]]:
    """How many history objects each (period, fetch stamp) has (one listing of the history folder)."""
    done: Counter[tuple[Period, str]] = Counter()
    for key in store.keys(history_prefix(store)):
        period, match = store.report.period_in_key(key), NAME.fullmatch(key.rpartition("/")[2])
        if period is not None and match is not None:
            done[(period, match[1])] += 1
    return done


def missing(versions: list[RawVersion], done: Counter[tuple[Period, str]]) -> list[RawVersion]:
    """The versions without a history object: newest period first (the months still being restated), oldest fetch first within one.

    A listing names no SHA-256, so versions are matched to history objects by fetch stamp: when a period has fewer
    objects of a stamp than versions (two fetches in one second), each of those versions is copied again (no-op if there).
    """
    stored = Counter((v.period, v.stamp) for v in versions)
    todo = [v for v in versions if done[(v.period, v.stamp)] < stored[(v.period, v.stamp)]]
    todo.sort(key=lambda v: v.fetched)
    todo.sort(key=lambda v: v.period, reverse=True)  # stable: each period's fetches stay in time order
    return todo


def copy_version(store: ArchiveStore, raw: RawVersion, max_bytes: int | None) -> str:
    """Write the history object of one raw version (curated CSV plus fetched_at and source_sha256); its key.

    Written whole with If-None-Match: a retry, an overlapping run or a run killed mid-upload leaves either nothing or
    the complete object, never another one; RawMismatch if the bytes are not the ones the version's metadata names.
    """
    with tempfile.TemporaryDirectory(prefix="appstore-history-") as scratch:
        source, target = Path(scratch) / "raw", Path(scratch) / "history.csv.gz"
        sha256 = fetch_raw(store, raw.key, raw.version, source)
        from archiver.formats.sales_csv import curate  # imported when a copy is made: a run with none never loads the converter

        fetched_at = raw.fetched.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with open(target, "wb") as out:
            curated = curate(source, out, max_bytes, tuple(zip(HISTORY_COLUMNS, (fetched_at, sha256), strict=True)))
        key = history_key(store, raw, sha256)
        metadata = {"sha256": curated.sha256, "rows": str(curated.rows), "source-sha256": sha256, "source-version": raw.version or ""}
        try:
            with open(target, "rb") as data:
                store.s3.put_object(**store.args(Key=key, Body=data, Metadata=metadata, ContentType="application/gzip", IfNoneMatch="*"))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "PreconditionFailed":  # 412: the object is there, made from these bytes
                raise
        return key
