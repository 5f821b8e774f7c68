"""The archive bucket: key layout, listings, what a month holds, and per-month state markers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archiver.core.periods import Period
from archiver.core.report_types import BY_NAME, SALES, ReportType

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

_MARKER = re.compile(r"(not_found|deferred|pending)/(\d{4}(?:-\d{2})?)\.json$")


@dataclass(frozen=True)
class ArchiveState:
    """What the bucket says about each period (month, or year for a yearly type) of one report type so far."""

    archived: frozenset[Period] = frozenset()
    not_found: frozenset[Period] = frozenset()
    deferred: Mapping[Period, bool] = field(default_factory=dict)
    checked: Mapping[Period, datetime] = field(default_factory=dict)  # not-found marker -> when it was last answered
    pending: frozenset[Period] = frozenset()  # a month transaction was left in progress
    unsupported: datetime | None = None  # when the API last refused the report type as unknown

    def markers(self, period: Period) -> list[str]:
        """The period's not_found and deferred markers, to clear once it is archived."""
        return [s for s, periods in (("not_found", self.not_found), ("deferred", self.deferred)) if period in periods]


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

    def __init__(self, s3: S3Client, bucket: str, prefix: str, report: ReportType | str = SALES, owner: str | None = None) -> None:
        self.s3, self.bucket, self.prefix, self.owner = s3, bucket, prefix, owner
        self.report = BY_NAME[report] if isinstance(report, str) else report

    def args(self, **params: Any) -> dict[str, Any]:
        """Request parameters on the archive bucket, with ExpectedBucketOwner when the owner is known."""
        owner = {"ExpectedBucketOwner": self.owner} if self.owner else {}
        return {"Bucket": self.bucket, **owner, **params}

    def raw_prefix(self, period: Period) -> str:
        """Where the period's raw file lives."""
        return self.report.raw_prefix(self.prefix, period)

    def curated_prefix(self, period: Period) -> str:
        """The period's partition folder in the table location."""
        return self.report.curated_prefix(self.prefix, period)

    def curated_key(self, period: Period) -> str:
        """The one curated object of the period's partition."""
        return self.report.curated_key(self.prefix, period)

    def quarantine_key(self, period: Period, sha256: str, name: str) -> str:
        """Where served bytes that could not be archived are kept."""
        return self.report.quarantine_key(self.prefix, period, sha256, name)

    def location(self, period: Period) -> str:
        """The Glue partition location of the period."""
        return self.report.location(self.bucket, self.prefix, period)

    def marker_key(self, status: str, period: Period) -> str:
        """The state marker of a period: not_found, deferred or pending."""
        return self.report.state_key(self.prefix, status, period)

    def listing(self, prefix: str) -> list[dict[str, Any]]:
        """Every current object under a prefix (key, size, LastModified)."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(**self.args(Prefix=prefix))
        return [dict(item) for page in pages for item in page.get("Contents", [])]

    def keys(self, prefix: str) -> list[str]:
        """Every key under a prefix."""
        return [str(item["Key"]) for item in self.listing(prefix)]

    def state(self) -> ArchiveState:
        """Periods archived, answered 'not found' (and when), deferred, or with a transaction pending: two listings."""
        raw = (self.report.period_in_key(k) for k in self.keys(f"{self.prefix}raw/{self.report.name}/"))
        archived = {period for period in raw if period is not None}
        not_found: dict[Period, datetime] = {}
        deferred: dict[Period, bool] = {}
        pending: set[Period] = set()
        unsupported: datetime | None = None
        for item in self.listing(f"{self.prefix}state/{self.report.name}/"):
            if item["Key"] == self.report.unsupported_key(self.prefix):
                unsupported = item["LastModified"]
            elif (match := _MARKER.search(item["Key"])) and len(match[2]) == (7 if self.report.period == "month" else 4):
                month = self.report.parse_period(match[2])
                if match[1] == "not_found":
                    not_found[month] = item["LastModified"]
                elif match[1] == "pending":
                    pending.add(month)
                else:
                    body = self.s3.get_object(**self.args(Key=item["Key"]))["Body"].read()
                    deferred[month] = bool(json.loads(body or b"{}").get("force", False))
        return ArchiveState(frozenset(archived), frozenset(not_found), deferred, not_found, frozenset(pending), unsupported)

    def head(self, key: str, version: str | None = None) -> Stored:
        """One object's (or one version's) version id and metadata."""
        extra = {"VersionId": version} if version else {}
        response = self.s3.head_object(**self.args(Key=key, **extra))
        return Stored(key, version_of(response), dict(response.get("Metadata", {})))

    def current(self, key: str) -> Stored | None:
        """The key's current object, listed first: without an unconditional s3:ListBucket, HEAD on a missing key is 403."""
        return self.head(key) if key in self.keys(key) else None

    def month(self, month: Period) -> MonthView:
        """The month's raw objects and curated object, with their metadata and version ids."""
        raw = tuple(self.head(key) for key in self.keys(self.raw_prefix(month)))
        curated_key = self.curated_key(month)
        curated = self.head(curated_key) if curated_key in self.keys(self.curated_prefix(month)) else None
        return MonthView(raw, curated)

    def set_marker(self, month: Period, status: str, force: bool = False) -> None:
        """Record that a month answered 'not_found' or was 'deferred' (re-putting refreshes its LastModified)."""
        body = json.dumps({"month": str(month), "status": status, "force": force}).encode()
        self.s3.put_object(**self.args(Key=self.marker_key(status, month), Body=body, ContentType="application/json"))

    def clear_marker(self, month: Period, status: str) -> None:
        """Forget a month's 'not_found' or 'deferred' marker."""
        self.s3.delete_object(**self.args(Key=self.marker_key(status, month)))

    def put_intent(self, month: Period, intent: dict[str, Any]) -> str | None:
        """Write the month's pending marker (a transaction in progress, its token also in the metadata); returns its version id."""
        key, body, metadata = self.marker_key("pending", month), json.dumps(intent).encode(), {"txn": str(intent["txn"])}
        response = self.s3.put_object(**self.args(Key=key, Body=body, Metadata=metadata, ContentType="application/json"))
        return version_of(response)

    def read_intent(self, month: Period) -> tuple[dict[str, Any], str | None] | None:
        """The month's pending marker and its version id, if there is one."""
        key = self.marker_key("pending", month)
        if key not in self.keys(key):
            return None
        response = self.s3.get_object(**self.args(Key=key))
        return json.loads(response["Body"].read() or b"{}"), version_of(response)

    def clear_intent(self, month: Period, version: str | None) -> None:
        """Remove our version of the pending marker (by version: no delete marker, another writer's marker stays)."""
        extra = {"VersionId": version} if version else {}
        self.s3.delete_object(**self.args(Key=self.marker_key("pending", month), **extra))

    def set_unsupported(self) -> None:
        """Record that the API refused this report type as unknown (re-putting refreshes its LastModified)."""
        body = json.dumps({"report": self.report.name, "status": "unsupported"}).encode()
        self.s3.put_object(**self.args(Key=self.report.unsupported_key(self.prefix), Body=body, ContentType="application/json"))

    def clear_unsupported(self) -> None:
        """Forget the type's `unsupported` marker (the API served it again)."""
        self.s3.delete_object(**self.args(Key=self.report.unsupported_key(self.prefix)))

    def remove_other_raw(self, month: Period, keep: str) -> None:
        """Delete the month's raw files other than `keep` (plain delete: their history stays as noncurrent versions)."""
        for key in self.keys(self.raw_prefix(month)):
            if key != keep:
                self.s3.delete_object(**self.args(Key=key))
