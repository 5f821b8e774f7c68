"""The archive's lease: taken free or expired, waited for then Busy, never won twice, fenced on renewal, released."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from archiver.run.startup import Clients
from archiver.storage.lease import KEY, Busy, Lease, LeaseLost
from archiver.storage.lease_record import Clock, judge
from tests.unit.conftest import BUCKET, keys

PREFIX = "appstore/"


class FakeTime:
    """A wall clock that moves only when slept on; S3's clock (moto's, which stamps LastModified) moves along with it."""

    def __init__(self) -> None:
        self.at = self.start = datetime(2026, 12, 1, tzinfo=UTC)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)

    def clock(self, skew: timedelta = timedelta()) -> Clock:
        return Clock(lambda: self.at + skew, self.sleep)

    def s3_date(self) -> str:
        """S3's `Date` header now: moto's time plus the time slept or passed since the test began."""
        return formatdate((datetime.now(UTC) + (self.at - self.start)).timestamp(), usegmt=True)

    def stamp(self, s3: Any) -> Any:
        """Give a client's reads the `Date` header S3 sends (moto in-process sends none)."""

        def dated(parsed: dict[str, Any], **kwargs: Any) -> None:
            parsed.setdefault("ResponseMetadata", {}).setdefault("HTTPHeaders", {})["date"] = self.s3_date()

        for operation in ("GetObject", "HeadObject"):
            s3.meta.events.register(f"after-call.s3.{operation}", dated)
        return s3


@pytest.fixture
def time(aws: Clients) -> FakeTime:
    fake = FakeTime()
    fake.stamp(aws.s3)
    return fake


def lease(s3: Any, holder: str, time: FakeTime, skew: timedelta = timedelta()) -> Lease:
    return Lease(s3, BUCKET, PREFIX, holder, clock=time.clock(skew))


def body(aws: Clients) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=PREFIX + KEY)["Body"].read())
    return found


def test_a_free_lease_is_taken_and_names_its_holder_and_expiry(aws: Clients, time: FakeTime) -> None:
    a = lease(aws.s3, "run-a", time)
    a.acquire(1200, wait=60)
    assert body(aws)["holder"] == a.token and a.token.startswith("run-a ")
    assert body(aws)["expires"] == (time.at + timedelta(seconds=1200)).isoformat()  # the writer's estimate, for people
    assert body(aws)["seconds"] == 1200  # how long after S3's LastModified it expires
    assert time.slept == []


def test_a_held_lease_is_waited_for_with_backoff_then_busy_naming_the_holder(aws: Clients, time: FakeTime) -> None:
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(1200, wait=60)
    with pytest.raises(Busy) as caught:
        b.acquire(1200, wait=20)
    modified = aws.s3.head_object(Bucket=BUCKET, Key=PREFIX + KEY)["LastModified"]
    assert (caught.value.holder, caught.value.expires) == (a.token, (modified + timedelta(seconds=1200)).isoformat())  # S3's clock
    assert time.slept == [1.0, 2.0, 4.0, 8.0, 5.0]  # backoff, bounded by the wait
    assert body(aws)["holder"] == a.token


def test_an_expired_lease_is_taken_over_without_waiting(aws: Clients, time: FakeTime) -> None:
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(60, wait=0)
    time.at += timedelta(seconds=61)  # run a was killed: its lease has expired
    b.acquire(1200, wait=0)
    assert body(aws)["holder"] == b.token and time.slept == []


def test_two_takers_of_an_expired_lease_cannot_both_win(aws: Clients, time: FakeTime) -> None:
    lease(aws.s3, "run-a", time).acquire(60, wait=0)
    time.at += timedelta(seconds=61)
    s3_c = time.stamp(boto3.client("s3"))
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


def test_a_take_whose_answer_is_lost_is_known_from_the_holder_token(aws: Clients, time: FakeTime) -> None:
    a = lease(aws.s3, "run-a", time)

    def lost(**kwargs: Any) -> None:
        raise ReadTimeoutError(endpoint_url="s3")

    aws.s3.meta.events.register("after-call.s3.PutObject", lost)
    a.acquire(1200, wait=0)  # the write landed; reading the lease back shows it is ours
    assert a.etag is not None and body(aws)["holder"] == a.token


def test_a_renewal_after_the_lease_was_taken_over_raises_and_leaves_the_new_holder(aws: Clients, time: FakeTime) -> None:
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


def test_a_released_lease_is_gone_and_free_for_the_next_run(aws: Clients, time: FakeTime) -> None:
    a, b = lease(aws.s3, "run-a", time), lease(aws.s3, "run-b", time)
    a.acquire(1200, wait=0)
    a.release()
    assert keys(aws, PREFIX + KEY) == []
    b.acquire(1200, wait=0)  # over the delete marker a versioned bucket keeps
    assert body(aws)["holder"] == b.token and time.slept == []


def test_a_release_whose_retry_finds_the_lease_gone_is_done(aws: Clients, time: FakeTime) -> None:
    a = lease(aws.s3, "run-a", time)
    a.acquire(1200, wait=0)

    def retried(**kwargs: Any) -> None:  # the delete landed, its answer was lost; the SDK's retry finds no lease
        raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "DeleteObject")

    aws.s3.meta.events.register("after-call.s3.DeleteObject", retried)
    a.release()
    assert keys(aws, PREFIX + KEY) == [] and a.etag is None


def test_a_taker_whose_clock_runs_ahead_does_not_take_over_a_live_lease(aws: Clients, time: FakeTime) -> None:
    a = lease(aws.s3, "run-a", time)
    a.acquire(1200, wait=0)
    ahead = lease(aws.s3, "run-b", time, skew=timedelta(days=1))  # its clock says run a's expiry has long passed; S3's does not
    with pytest.raises(Busy) as caught:
        ahead.acquire(1200, wait=0)
    assert caught.value.holder == a.token and body(aws)["holder"] == a.token
    a.renew(1200)  # still run a's


def test_an_expired_lease_is_judged_by_s3s_clock_even_when_the_takers_clock_runs_behind(aws: Clients, time: FakeTime) -> None:
    lease(aws.s3, "run-a", time).acquire(60, wait=0)
    time.at += timedelta(seconds=61)
    behind = lease(aws.s3, "run-b", time, skew=-timedelta(days=1))
    behind.acquire(1200, wait=0)
    assert body(aws)["holder"] == behind.token


def test_a_lease_that_keeps_answering_conflicts_ends_busy_at_the_wait_with_bounded_calls(aws: Clients, time: FakeTime) -> None:
    puts: list[int] = []

    def conflict(**kwargs: Any) -> None:  # every take loses a race (409), as under a storm of writers
        puts.append(1)
        if len(puts) > 50:
            raise RuntimeError("the take spins without waiting")
        raise ClientError({"Error": {"Code": "ConditionalRequestConflict", "Message": "conflict"}}, "PutObject")

    aws.s3.meta.events.register("before-call.s3.PutObject", conflict)
    with pytest.raises(Busy):
        lease(aws.s3, "run-a", time).acquire(1200, wait=20)
    assert time.slept == [1.0, 2.0, 4.0, 8.0, 5.0] and len(puts) == 6  # the same backoff and give-up time as a held lease


def test_a_take_whose_write_lands_after_the_read_back_is_held(aws: Clients, time: FakeTime) -> None:
    a = lease(aws.s3, "run-a", time)
    landing: dict[str, Any] = {}
    lists: list[int] = []

    def lost(params: dict[str, Any], **kwargs: Any) -> None:  # the PUT's answer is lost; the write is still in flight
        if not landing:
            landing.update(params)
            raise ReadTimeoutError(endpoint_url="s3")

    def lands_after_the_read_back(**kwargs: Any) -> None:
        if landing:
            lists.append(1)
            if len(lists) == 1:  # the read-back did not see it: now it lands
                boto3.client("s3").put_object(**landing)

    aws.s3.meta.events.register("before-parameter-build.s3.PutObject", lost)
    aws.s3.meta.events.register("after-call.s3.ListObjectsV2", lands_after_the_read_back)
    a.acquire(1200, wait=0)
    assert body(aws)["holder"] == a.token and a.etag is not None and time.slept == [1.0]  # read again after the backoff
    a.release()  # ours: the next run finds the lease free
    assert keys(aws, PREFIX + KEY) == []


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 07 Dec 2026 21:08:19 GMT",
        "Mon, 07 Dec 2026 21:08:19 GMT, Mon, 07 Dec 2026 21:08:20 GMT",  # a proxy's Date joined to S3's
        "Mon, 07 Dec 2026 21:08:19 -0000",  # parsed as a naive time
    ],
)
def test_the_read_time_is_s3s_date_header_however_it_is_written(date: str) -> None:
    written = datetime(2026, 12, 7, 21, 0, 0, tzinfo=UTC)
    found = judge({"holder": "x", "seconds": 600}, "e", written, date, local=datetime(2030, 1, 1, tzinfo=UTC))
    assert found.now == datetime(2026, 12, 7, 21, 8, 19, tzinfo=UTC) and not found.expired
    assert judge({"holder": "x", "seconds": 300}, "e", written, date, local=datetime(2000, 1, 1, tzinfo=UTC)).expired
