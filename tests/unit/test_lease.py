"""The archive's lease: taken free or expired, waited for then Busy, never won twice, fenced on renewal, released."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from archiver.lease import KEY, Busy, Clock, Lease, LeaseLost
from archiver.service import Clients
from tests.unit.conftest import BUCKET, keys

PREFIX = "appstore/"


class FakeTime:
    """A wall clock that moves only when slept on."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, tzinfo=UTC)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)

    def clock(self) -> Clock:
        return Clock(lambda: self.at, self.sleep)


def lease(s3: Any, holder: str, time: FakeTime) -> Lease:
    return Lease(s3, BUCKET, PREFIX, holder, clock=time.clock())


def body(aws: Clients) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=PREFIX + KEY)["Body"].read())
    return found


def test_a_free_lease_is_taken_and_names_its_holder_and_expiry(aws: Clients) -> None:
    time = FakeTime()
    a = lease(aws.s3, "run-a", time)
    a.acquire(1200, wait=60)
    assert body(aws)["holder"] == a.token and a.token.startswith("run-a ")
    assert body(aws)["expires"] == (time.at + timedelta(seconds=1200)).isoformat()
    assert time.slept == []


def test_a_held_lease_is_waited_for_with_backoff_then_busy_naming_the_holder(aws: Clients) -> None:
    time = FakeTime()
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(1200, wait=60)
    with pytest.raises(Busy) as caught:
        b.acquire(1200, wait=20)
    assert (caught.value.holder, caught.value.expires) == (a.token, body(aws)["expires"])
    assert time.slept == [1.0, 2.0, 4.0, 8.0, 5.0]  # backoff, bounded by the wait
    assert body(aws)["holder"] == a.token


def test_an_expired_lease_is_taken_over_without_waiting(aws: Clients) -> None:
    time = FakeTime()
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(60, wait=0)
    time.at += timedelta(seconds=61)  # run a was killed: its lease has expired
    b.acquire(1200, wait=0)
    assert body(aws)["holder"] == b.token and time.slept == []


def test_two_takers_of_an_expired_lease_cannot_both_win(aws: Clients) -> None:
    time = FakeTime()
    lease(aws.s3, "run-a", time).acquire(60, wait=0)
    time.at += timedelta(seconds=61)
    s3_c = boto3.client("s3")
    b, c = lease(aws.s3, "run-b", time), lease(s3_c, "run-c", time)
    raced: list[str] = []

    def b_first(**kwargs: Any) -> None:  # b takes the lease after c read the expired one, before c's write
        if not raced:
            raced.append("b")
            b.acquire(1200, wait=0)

    s3_c.meta.events.register("before-call.s3.PutObject", b_first)
    with pytest.raises(Busy) as caught:
        c.acquire(1200, wait=0)
    assert raced == ["b"] and caught.value.holder == b.token and body(aws)["holder"] == b.token


def test_a_take_whose_answer_is_lost_is_known_from_the_holder_token(aws: Clients) -> None:
    time = FakeTime()
    a = lease(aws.s3, "run-a", time)

    def lost(**kwargs: Any) -> None:
        raise ReadTimeoutError(endpoint_url="s3")

    aws.s3.meta.events.register("after-call.s3.PutObject", lost)
    a.acquire(1200, wait=0)  # the write landed; reading the lease back shows it is ours
    assert a.etag is not None and body(aws)["holder"] == a.token


def test_a_renewal_after_the_lease_was_taken_over_raises_and_leaves_the_new_holder(aws: Clients) -> None:
    time = FakeTime()
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(60, wait=0)
    a.renew(60)
    assert body(aws)["holder"] == a.token
    time.at += timedelta(seconds=61)
    b.acquire(1200, wait=0)
    with pytest.raises(LeaseLost, match="run-b"):
        a.renew(1200)
    a.release()  # no longer ours: nothing is deleted
    assert body(aws)["holder"] == b.token


def test_a_released_lease_is_gone_and_free_for_the_next_run(aws: Clients) -> None:
    time = FakeTime()
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(1200, wait=0)
    a.release()
    assert keys(aws, PREFIX + KEY) == []
    b.acquire(1200, wait=0)  # over the delete marker a versioned bucket keeps
    assert body(aws)["holder"] == b.token and time.slept == []


def test_a_release_whose_retry_finds_the_lease_gone_is_done(aws: Clients) -> None:
    time = FakeTime()
    a = lease(aws.s3, "run-a", time)
    a.acquire(1200, wait=0)

    def retried(**kwargs: Any) -> None:  # the delete landed, its answer was lost; the SDK's retry finds no lease
        raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "DeleteObject")

    aws.s3.meta.events.register("after-call.s3.DeleteObject", retried)
    a.release()
    assert keys(aws, PREFIX + KEY) == [] and a.etag is None
