"""The local moto server keeps no copy of an S3 key beyond the request that made it (bounded memory for long runs)."""

from __future__ import annotations

import boto3
import requests

BUCKET = "registry-check"


def _registered(url: str) -> tuple[int, int]:
    """How many S3 keys and delete markers moto's registry holds, as its dashboard data lists them."""
    s3 = requests.get(f"{url}/moto-api/data.json", timeout=30).json().get("s3", {})
    return len(s3.get("FakeKey", [])), len(s3.get("FakeDeleteMarker", []))


def _versions(url: str) -> int:
    """Put three keys four times each into a fresh versioned bucket, delete one, list the versions five times; the count."""
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for n in range(12):
        s3.put_object(Bucket=BUCKET, Key=f"k{n % 3}", Body=b"x" * 1024)
    s3.delete_object(Bucket=BUCKET, Key="k0")  # a delete marker, which holds the key it hides
    for _ in range(5):
        listed = s3.list_object_versions(Bucket=BUCKET)["Versions"]
    return len(listed)


def test_listing_versions_registers_no_copies_before_and_after_a_reset(moto_server: str) -> None:
    # moto deep-copies every version and delete marker on ListObjectVersions; a plain moto_server registers each copy
    # for good (72 keys and 6 markers here, and 24 GB after a 675-run soak). The local stack's server: only live ones.
    for _ in range(2):  # the second round runs after /moto-api/reset, which replaces moto's registries
        requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
        assert _versions(moto_server) == 12
        assert _registered(moto_server) == (12, 1)
