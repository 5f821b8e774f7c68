"""Store archives in S3: the key layout, whole-object uploads, and per-month state markers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig

from archiver.months import Month
from archiver.plan import ArchiveState

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

# Uploads stream from the spool file; multipart parts become visible only on completion.
TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024, max_concurrency=2)
_PARTITION = re.compile(r"year=(\d{4})/month=(\d{2})/")
_MARKER = re.compile(r"(not_found|deferred)/(\d{4}-\d{2})\.json$")


@dataclass(frozen=True)
class Archived:
    """What the bucket holds for one month."""

    raw_key: str
    raw_sha256: str
    curated_fingerprint: str | None


class ArchiveStore:
    """The archive bucket's layout and operations for one report type."""

    def __init__(self, s3: S3Client, bucket: str, prefix: str, report: str = "sales") -> None:
        self.s3, self.bucket, self.prefix, self.report = s3, bucket, prefix, report

    def raw_prefix(self, month: Month) -> str:
        """Where the month's raw file lives."""
        return f"{self.prefix}raw/{self.report}/year={month.year:04d}/month={month.mm}/"

    def curated_prefix(self, month: Month) -> str:
        """The month's partition folder in the table location."""
        return f"{self.prefix}{self.report}/year={month.year:04d}/month={month.mm}/"

    def curated_key(self, month: Month) -> str:
        """The one curated object of the month's partition."""
        return f"{self.curated_prefix(month)}{self.report}_{month.year:04d}_{month.mm}.csv.gz"

    def location(self, month: Month) -> str:
        """The Glue partition location of the month."""
        return f"s3://{self.bucket}/{self.curated_prefix(month)}"

    def _marker(self, status: str, month: Month) -> str:
        return f"{self.prefix}state/{self.report}/{status}/{month}.json"

    def _keys(self, prefix: str) -> list[str]:
        """Every key under a prefix."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def state(self) -> ArchiveState:
        """Months archived, answered 'not found', or deferred, read from two listings."""
        archived = {Month(int(m[1]), int(m[2])) for k in self._keys(f"{self.prefix}raw/{self.report}/") if (m := _PARTITION.search(k))}
        not_found: set[Month] = set()
        deferred: dict[Month, bool] = {}
        for key in self._keys(f"{self.prefix}state/{self.report}/"):
            if match := _MARKER.search(key):
                month = Month.parse(match[2])
                if match[1] == "not_found":
                    not_found.add(month)
                else:
                    body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                    deferred[month] = bool(json.loads(body or b"{}").get("force", False))
        return ArchiveState(frozenset(archived), frozenset(not_found), deferred)

    def archived(self, month: Month) -> Archived | None:
        """The month's current raw object and curated fingerprint, if it was archived."""
        raw = self._keys(self.raw_prefix(month))
        if not raw:
            return None
        head = self.s3.head_object(Bucket=self.bucket, Key=raw[0])
        fingerprint: str | None = None
        # Listed first: without an unconditional s3:ListBucket, S3 answers HEAD on a missing key with 403.
        if self.curated_key(month) in self._keys(self.curated_prefix(month)):
            curated = self.s3.head_object(Bucket=self.bucket, Key=self.curated_key(month))
            fingerprint = curated["Metadata"].get("columns")
        return Archived(raw[0], head["Metadata"].get("sha256", ""), fingerprint)

    def put(self, key: str, path: Path, metadata: dict[str, str], content_type: str) -> None:
        """Upload a finished local file whole; it becomes visible only when complete."""
        extra = {"Metadata": metadata, "ContentType": content_type}
        self.s3.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=TRANSFER)

    def current_version(self, key: str) -> str | None:
        """The version id of an object's current version (None in a bucket without versioning)."""
        version = self.s3.head_object(Bucket=self.bucket, Key=key).get("VersionId")
        return version if version and version != "null" else None

    def remove_version(self, key: str, version: str) -> None:
        """Delete one version of an object, making the previous version current again."""
        self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=version)

    def remove_other_raw(self, month: Month, keep: str) -> None:
        """Delete the month's raw files other than `keep` (one raw file per month)."""
        for key in self._keys(self.raw_prefix(month)):
            if key != keep:
                self.s3.delete_object(Bucket=self.bucket, Key=key)

    def set_marker(self, month: Month, status: str, force: bool = False) -> None:
        """Record that a month answered 'not_found' or was 'deferred'."""
        body = json.dumps({"month": str(month), "status": status, "force": force}).encode()
        self.s3.put_object(Bucket=self.bucket, Key=self._marker(status, month), Body=body, ContentType="application/json")

    def clear_marker(self, month: Month, status: str) -> None:
        """Forget a month's 'not_found' or 'deferred' marker."""
        self.s3.delete_object(Bucket=self.bucket, Key=self._marker(status, month))
