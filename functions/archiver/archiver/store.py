"""The archive bucket: key layout, listings, what a month holds, and per-month state markers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archiver.months import Month
from archiver.plan import ArchiveState

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

_PARTITION = re.compile(r"year=(\d{4})/month=(\d{2})/")
_MARKER = re.compile(r"(not_found|deferred|pending)/(\d{4}-\d{2})\.json$")


@dataclass(frozen=True)
class Stored:
    """One current object: key, version id (None without versioning) and user metadata."""

    key: str
    version: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MonthView:
    """What the bucket holds for one month: its raw objects and its curated object."""

    raw: tuple[Stored, ...]
    curated: Stored | None


def version_of(response: Any) -> str | None:
    """The version id an S3 response names (None in a bucket without versioning)."""
    version = response.get("VersionId")
    return str(version) if version and version != "null" else None


class ArchiveStore:
    """The archive bucket's layout and reads for one report type; every call names the expected owner."""

    def __init__(self, s3: S3Client, bucket: str, prefix: str, report: str = "sales", owner: str | None = None) -> None:
        self.s3, self.bucket, self.prefix, self.report, self.owner = s3, bucket, prefix, report, owner

    def args(self, **params: Any) -> dict[str, Any]:
        """Request parameters on the archive bucket, with ExpectedBucketOwner when the owner is known."""
        owner = {"ExpectedBucketOwner": self.owner} if self.owner else {}
        return {"Bucket": self.bucket, **owner, **params}

    def versioning(self) -> str | None:
        """The bucket's versioning status: 'Enabled', 'Suspended', or None if it was never enabled."""
        return self.s3.get_bucket_versioning(**self.args()).get("Status")

    def raw_prefix(self, month: Month) -> str:
        """Where the month's raw file lives."""
        return f"{self.prefix}raw/{self.report}/year={month.year:04d}/month={month.mm}/"

    def curated_prefix(self, month: Month) -> str:
        """The month's partition folder in the table location."""
        return f"{self.prefix}{self.report}/year={month.year:04d}/month={month.mm}/"

    def curated_key(self, month: Month) -> str:
        """The one curated object of the month's partition."""
        return f"{self.curated_prefix(month)}{self.report}_{month.year:04d}_{month.mm}.csv.gz"

    def quarantine_key(self, month: Month, sha256: str, name: str) -> str:
        """Where served bytes that could not be archived are kept."""
        return f"{self.prefix}quarantine/{self.report}/year={month.year:04d}/month={month.mm}/{sha256}-{name}"

    def location(self, month: Month) -> str:
        """The Glue partition location of the month."""
        return f"s3://{self.bucket}/{self.curated_prefix(month)}"

    def marker_key(self, status: str, month: Month) -> str:
        """The state marker of a month: not_found, deferred or pending."""
        return f"{self.prefix}state/{self.report}/{status}/{month}.json"

    def listing(self, prefix: str) -> list[dict[str, Any]]:
        """Every current object under a prefix (key, size, LastModified)."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(**self.args(Prefix=prefix))
        return [dict(item) for page in pages for item in page.get("Contents", [])]

    def keys(self, prefix: str) -> list[str]:
        """Every key under a prefix."""
        return [str(item["Key"]) for item in self.listing(prefix)]

    def state(self) -> ArchiveState:
        """Months archived, answered 'not found' (and when), deferred, or with a transaction pending: two listings."""
        archived = {Month(int(m[1]), int(m[2])) for k in self.keys(f"{self.prefix}raw/{self.report}/") if (m := _PARTITION.search(k))}
        not_found: dict[Month, datetime] = {}
        deferred: dict[Month, bool] = {}
        pending: set[Month] = set()
        for item in self.listing(f"{self.prefix}state/{self.report}/"):
            if match := _MARKER.search(item["Key"]):
                month = Month.parse(match[2])
                if match[1] == "not_found":
                    not_found[month] = item["LastModified"]
                elif match[1] == "pending":
                    pending.add(month)
                else:
                    body = self.s3.get_object(**self.args(Key=item["Key"]))["Body"].read()
                    deferred[month] = bool(json.loads(body or b"{}").get("force", False))
        return ArchiveState(frozenset(archived), frozenset(not_found), deferred, not_found, frozenset(pending))

    def head(self, key: str, version: str | None = None) -> Stored:
        """One object's (or one version's) version id and metadata."""
        extra = {"VersionId": version} if version else {}
        response = self.s3.head_object(**self.args(Key=key, **extra))
        return Stored(key, version_of(response), dict(response.get("Metadata", {})))

    def current(self, key: str) -> Stored | None:
        """The key's current object, listed first: without an unconditional s3:ListBucket, HEAD on a missing key is 403."""
        return self.head(key) if key in self.keys(key) else None

    def month(self, month: Month) -> MonthView:
        """The month's raw objects and curated object, with their metadata and version ids."""
        raw = tuple(self.head(key) for key in self.keys(self.raw_prefix(month)))
        curated_key = self.curated_key(month)
        curated = self.head(curated_key) if curated_key in self.keys(self.curated_prefix(month)) else None
        return MonthView(raw, curated)

    def set_marker(self, month: Month, status: str, force: bool = False) -> None:
        """Record that a month answered 'not_found' or was 'deferred' (re-putting refreshes its LastModified)."""
        body = json.dumps({"month": str(month), "status": status, "force": force}).encode()
        self.s3.put_object(**self.args(Key=self.marker_key(status, month), Body=body, ContentType="application/json"))

    def clear_marker(self, month: Month, status: str) -> None:
        """Forget a month's 'not_found' or 'deferred' marker."""
        self.s3.delete_object(**self.args(Key=self.marker_key(status, month)))

    def put_intent(self, month: Month, intent: dict[str, Any]) -> str | None:
        """Write the month's pending marker (a transaction in progress, its token also in the metadata); returns its version id."""
        key, body, metadata = self.marker_key("pending", month), json.dumps(intent).encode(), {"txn": str(intent["txn"])}
        response = self.s3.put_object(**self.args(Key=key, Body=body, Metadata=metadata, ContentType="application/json"))
        return version_of(response)

    def read_intent(self, month: Month) -> tuple[dict[str, Any], str | None] | None:
        """The month's pending marker and its version id, if there is one."""
        key = self.marker_key("pending", month)
        if key not in self.keys(key):
            return None
        response = self.s3.get_object(**self.args(Key=key))
        return json.loads(response["Body"].read() or b"{}"), version_of(response)

    def clear_intent(self, month: Month, version: str | None) -> None:
        """Remove our version of the pending marker (by version: no delete marker, another writer's marker stays)."""
        extra = {"VersionId": version} if version else {}
        self.s3.delete_object(**self.args(Key=self.marker_key("pending", month), **extra))

    def remove_other_raw(self, month: Month, keep: str) -> None:
        """Delete the month's raw files other than `keep` (plain delete: their history stays as noncurrent versions)."""
        for key in self.keys(self.raw_prefix(month)):
            if key != keep:
                self.s3.delete_object(**self.args(Key=key))
