"""Retries of the Appstore API: a malformed Retry-After, and waits bounded by the run's deadline."""

from __future__ import annotations

import pytest
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from archiver.amazon.appstore import retrying_session
from archiver.core import deadline as deadline_module
from archiver.core.deadline import Deadline, OutOfTime


def adapter_retry(*args: Deadline) -> Retry:
    retry = retrying_session(*args).get_adapter("https://api.amazon.example/").max_retries
    assert isinstance(retry, Retry)
    return retry


def throttled(retry_after: str | None) -> HTTPResponse:
    return HTTPResponse(body=b"Rate exceeded", headers={"Retry-After": retry_after} if retry_after else {}, status=429)


def after_failures(retry: Retry, response: HTTPResponse, failures: int) -> Retry:
    for _ in range(failures):
        retry = retry.increment(method="GET", url="/report", response=response)
    return retry


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr("time.sleep", recorded.append)
    return recorded


def test_a_malformed_retry_after_is_ignored_and_the_normal_backoff_applies(sleeps: list[float]) -> None:
    response = throttled("soon")
    retry = after_failures(adapter_retry(), response, 3)
    retry.sleep(response)  # urllib3's own Retry raises InvalidHeader here
    assert sleeps == [retry.get_backoff_time()] == [2.0]  # 0.5 * 2 ** (3 - 1)


def test_a_well_formed_retry_after_is_still_honoured(sleeps: list[float]) -> None:
    response = throttled("7")
    after_failures(adapter_retry(), response, 1).sleep(response)
    assert sleeps == [7]


def test_a_retry_after_longer_than_the_time_left_raises_at_once(sleeps: list[float]) -> None:
    budget = Deadline(lambda: 150.0, 120.0)  # 30 s left before the safety margin
    budget.time_left()
    response = throttled("45")
    retry = after_failures(adapter_retry(budget), response, 1)  # the deadline survives urllib3's Retry.new()
    with pytest.raises(OutOfTime, match=r"Retry-After wait of HTTP 429 would take 45 s, but the run has (29|30) s left"):
        retry.sleep(response)
    assert sleeps == []


def test_a_backoff_longer_than_the_time_left_raises_at_once(sleeps: list[float]) -> None:
    budget = Deadline(lambda: 121.0, 120.0)
    budget.time_left()
    response = throttled(None)
    with pytest.raises(OutOfTime, match="a retry backoff would take 4 s"):
        after_failures(adapter_retry(budget), response, 4).sleep(response)
    assert sleeps == []


def test_the_deadline_follows_the_time_left_the_run_reads() -> None:
    now = [0.0]
    left = [900.0]
    budget = Deadline(lambda: left[0], 120.0, clock=lambda: now[0])
    assert budget.remaining() == float("inf")  # before the run first reads it: only the fixed limits apply
    assert budget.time_left() == 900.0
    now[0] += 100.0
    assert budget.remaining() == 680.0
    assert budget.timeout(10.0, 60.0, "x") == (10.0, 60.0)
    now[0] += 675.0
    assert budget.timeout(10.0, 60.0, "x") == (5.0, 5.0)
    now[0] += 5.0
    with pytest.raises(OutOfTime, match="no time left for x"):
        budget.timeout(10.0, 60.0, "x")
    assert deadline_module.NO_DEADLINE.remaining() == float("inf")
