"""The soak's hazards: lifecycle expiry between runs, overlapping invocations, retries refused after a lost answer."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from archiver.core.months import Month
from archiver.storage.lease import Lease
from infra.local.faultproxy import UNACKED, name_call
from soak.awsfaults import AwsFaults
from soak.draw import AwsPlan, Draw
from soak.hazards import REFUSED_TARGETS
from soak.lifecycle import LEASE, expire_lease, expire_noncurrent

BUCKET, PREFIX = "archive", "appstore/"
MONTHS = list(Month(2026, 7).through(Month(2026, 11)))


@pytest.fixture(autouse=True)
def in_process_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use moto in process: no endpoint an earlier test's local stack left in the environment may redirect them."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)


def test_the_generator_draws_each_hazard() -> None:
    draw = Draw(1, MONTHS, {"source": "aws.events"})
    plans = [draw.run(n, n % 3 == 0) for n in range(1, 1501)]
    ages = [p.expire_after for p in plans if p.expire_after is not None]
    assert 0.0 in ages and any(age > 0 for age in ages)  # every noncurrent version, or those older than a drawn age
    assert any(p.expire_after is not None for p in plans if p.clean)  # lifecycle does not wait for a faulty run
    overlaps = [p for p in plans if p.overlap]
    assert overlaps and not any(p.clean for p in overlaps)
    assert any(p.overlap.kill_at for p in overlaps if p.overlap) and any(p.kill_at for p in overlaps)  # a kill on either
    assert any(p.lease_expires for p in plans) and not any(p.lease_expires for p in plans if p.number % 3)  # after a kill only
    refused = {p.aws.refused for p in plans if p.aws.refused}
    assert {op for op, _, _ in refused} == set(REFUSED_TARGETS) and {part for _, _, part in refused} == {"", "/raw/"}


def test_the_hazards_leave_the_other_draws_of_a_seed_as_they_were() -> None:
    plain = Draw(5, MONTHS, {}), Draw(5, MONTHS, {})
    for n in range(1, 200):
        first, second = plain[0].run(n, False), plain[1]._run(n, False)
        assert (first.event, first.changes, first.appstore, first.kill_at) == (
            second.event,
            second.changes,
            second.appstore,
            second.kill_at,
        )
        assert first.aws.targeted == second.aws.targeted


def test_a_refused_write_commits_unacknowledged_then_its_retries_are_refused() -> None:
    faults = AwsFaults(BUCKET, PREFIX)
    faults.arm(AwsPlan(refused=("s3.PutObject", 1, "/raw/")), random.Random(0))
    curated = name_call("PUT", f"/{BUCKET}/{PREFIX}sales/year=2026/month=11/sales_2026_11.csv.gz", {})
    put = name_call("PUT", f"/{BUCKET}/{PREFIX}raw/sales/year=2026/month=11/sales_2026_11.zip", {})
    assert faults(curated) is None  # not a raw upload
    assert faults(put) == UNACKED  # forwarded: S3 has it, the answer is lost
    for _ in range(2):  # the SDK's two retries time out too
        reply = faults(put)
        assert isinstance(reply, tuple) and reply[0] == 400 and b"RequestTimeout" in reply[2]
    assert faults(put) is None  # a later call of the run goes through
    assert faults.refused == {"s3.PutObject": 1}


def test_a_completed_upload_answers_its_retry_no_such_upload() -> None:
    faults = AwsFaults(BUCKET, PREFIX)
    faults.arm(AwsPlan(refused=("s3.CompleteMultipartUpload", 1, "")), random.Random(0))
    complete = name_call("POST", f"/{BUCKET}/{PREFIX}raw/sales/year=2026/month=11/sales_2026_11.zip?uploadId=1", {})
    assert faults(complete) == UNACKED
    reply = faults(complete)
    assert isinstance(reply, tuple) and reply[0] == 404 and b"NoSuchUpload" in reply[2]
    assert faults(complete) is None


@mock_aws
def test_lifecycle_expiry_deletes_only_versions_noncurrent_long_enough() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"old", b"new"):
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}sales/a.csv.gz", Body=body)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}state/sales/pending/x.json", Body=b"gone")
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}state/sales/pending/x.json")  # a delete marker is current
    for body in (b"served", b"restated"):  # what Amazon served: the template's lifecycle never expires it
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}raw/sales/b.zip", Body=body)
    s3.put_object(Bucket=BUCKET, Key="elsewhere/c", Body=b"1")
    s3.put_object(Bucket=BUCKET, Key="elsewhere/c", Body=b"2")
    now = datetime.now(UTC)

    def expire(age: float, at: datetime) -> tuple[int, int]:
        return expire_noncurrent(s3, BUCKET, PREFIX, age, at, lambda key: "/pending/" in key)

    assert expire(3600, now) == (0, 0)  # none noncurrent for an hour yet
    assert expire(3600, now + timedelta(hours=2)) == (2, 1)  # the old curated version, the marker's version under its delete marker
    versions = s3.list_object_versions(Bucket=BUCKET)
    assert [(v["Key"], v["IsLatest"]) for v in versions["Versions"]].count((f"{PREFIX}sales/a.csv.gz", True)) == 1
    assert len([v for v in versions["Versions"] if v["Key"] == f"{PREFIX}sales/a.csv.gz"]) == 1
    assert len([v for v in versions["Versions"] if v["Key"] == f"{PREFIX}raw/sales/b.zip"]) == 2  # raw/ is never expired
    assert len(versions["DeleteMarkers"]) == 1  # the current delete marker stays
    assert len([v for v in versions["Versions"] if v["Key"] == "elsewhere/c"]) == 2  # outside the prefix


@mock_aws
def test_a_lease_left_by_a_killed_run_expires_between_runs() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    now = datetime.now(UTC)
    assert not expire_lease(s3, BUCKET, PREFIX, now)  # no lease: nothing written
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    held = {"holder": "killed run", "seconds": 16, "expires": (now + timedelta(seconds=16)).isoformat()}
    s3.put_object(Bucket=BUCKET, Key=PREFIX + LEASE, Body=json.dumps(held).encode())
    found = Lease(s3, BUCKET, PREFIX, "next run").read()
    assert found is not None and not found.expired
    assert expire_lease(s3, BUCKET, PREFIX, now)
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + LEASE)["Body"].read())
    assert body["holder"] == "killed run" and datetime.fromisoformat(body["expires"]) < now
    found = Lease(s3, BUCKET, PREFIX, "next run").read()  # as the archiver judges it: by S3's clock
    assert found is not None and found.expired
