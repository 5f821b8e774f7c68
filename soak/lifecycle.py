"""Time passing between runs, on moto directly: noncurrent versions expiring as a lifecycle rule would, a lease expiring."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from infra.template.load import Context, load_template, noncurrent_expiry_prefixes

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

LEASE = "state/lease.json"  # the archive's lease under the prefix (when the archiver takes one)


def expiring(prefix: str) -> tuple[str, ...]:
    """The prefixes the template's lifecycle rules expire noncurrent versions under, for an archive at `prefix`."""
    context = Context.for_template(load_template(), {"ArchivePrefix": prefix}, physical_ids={"ArchiveBucket": "bucket"})
    return noncurrent_expiry_prefixes(context)


def expire_noncurrent(s3: S3Client, bucket: str, prefix: str, age: float, now: datetime, doomed: Callable[[str], bool]) -> tuple[int, int]:
    """Delete every version (and delete marker) noncurrent for at least `age` seconds where the template's lifecycle would.

    Only under the prefixes of its rules (`expiring`): what Amazon served (raw/, quarantine/) is never expired.

    A version is noncurrent from the moment the next newer version or delete marker of its key was
    written (S3's rule). Returns (versions deleted, of which `doomed(key)` holds: e.g. a key of a
    month whose transaction is pending, whose rollback may have relied on the deleted version).
    """
    entries: dict[str, list[tuple[bool, datetime, str]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            entries.setdefault(item["Key"], []).append((item["IsLatest"], item["LastModified"], item["VersionId"]))
    deleted = relied_on = 0
    rules = expiring(prefix)
    for key, versions in entries.items():
        if not key.startswith(rules):
            continue
        versions.sort(reverse=True)  # the current version (or delete marker) first, then newest first
        for newer, (_, _, version) in pairwise(versions):
            if (now - newer[1]).total_seconds() >= age:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
                deleted += 1
                relied_on += doomed(key)
    return deleted, relied_on


def expire_lease(s3: S3Client, bucket: str, prefix: str, now: datetime) -> bool:
    """Let the archive lease a killed run left expire, as its duration passing would; whether there was one."""
    key = prefix + LEASE
    if not s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents"):
        return False
    try:
        body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ValueError:
        return False  # unreadable: the archiver treats it as expired already
    if not isinstance(body, dict):
        return False
    body["expires"] = (now - timedelta(seconds=1)).isoformat()
    body["seconds"] = 0  # the archiver judges expiry by S3's clock: LastModified (this write) plus `seconds`
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode(), ContentType="application/json")
    return True
