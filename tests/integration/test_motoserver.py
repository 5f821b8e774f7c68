"""The local moto server keeps no copy of an S3 key beyond the request that made it (bounded memory for long runs)."""

from __future__ import annotations

import boto3
import requests

BUCKET = "registry-check"


def _registered_keys(url: str) -> int:
    """How many S3 key instances moto's registry holds, as its dashboard data lists them."""
    data = requests.get(f"{url}/moto-api/data.json", timeout=30).json()
    return len(data.get("s3", {}).get("FakeKey", []))


def _versions(url: str) -> int:
    """Put three keys four times each into a fresh versioned bucket, list the versions five times; return the count."""
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for n in range(12):
        s3.put_object(Bucket=BUCKET, Key=f"k{n % 3}", Body=b"x" * 1024)
    for _ in range(5):
        listed = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    return len(listed)


def test_listing_versions_registers_no_copies_before_and_after_a_reset(moto_server: str) -> None:
    # moto deep-copies every version on ListObjectVersions; a plain moto_server registers each copy for good
    # (72 here, and 24 GB after a 675-run soak). The server the local stack starts registers only live keys.
    for _ in range(2):  # the second round runs after /moto-api/reset, which replaces moto's registries
        requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
        assert _versions(moto_server) == 12
        assert _registered_keys(moto_server) == 12
