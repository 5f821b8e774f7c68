"""Pacing and retries for the Appstore API: a rate limiter, and urllib3 retries (backoff, Retry-After) within the run's deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from archiver.core.deadline import NO_DEADLINE, Deadline

MAX_RETRY_AFTER = 60  # seconds: the longest wait before a retry, backoff or Retry-After (urllib3's own cap is 6 h)


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart (thread-safe)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next call is allowed."""
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            self._sleep(delay)


class DeadlineRetry(Retry):
    """A Retry whose waits raise OutOfTime at once when they would outlast the deadline; a malformed Retry-After is ignored."""

    def __init__(self, *args: Any, deadline: Deadline = NO_DEADLINE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def new(self, **kw: Any) -> Self:
        """The next attempt's Retry, keeping the deadline (urllib3 builds a new object per attempt)."""
        retry = super().new(**kw)
        retry.deadline = self.deadline
        return retry

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """Retry-After in seconds; None when absent or malformed (`soon`), so the normal backoff applies."""
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait as urllib3 would (Retry-After if given, else backoff), but only if the deadline allows it."""
        retry_after = self.get_retry_after(response) if self.respect_retry_after_header and response else None
        if retry_after:
            self.deadline.sleep(retry_after, f"a Retry-After wait of HTTP {response.status if response else '?'}")
        else:
            self.deadline.sleep(self.get_backoff_time(), "a retry backoff")


RETRIES = 5  # retries of an Appstore request after a 429 or 5xx: six answers in a row fail it


def retrying_session(deadline: Deadline = NO_DEADLINE) -> requests.Session:
    """An HTTP session that verifies TLS and retries 429/5xx, honouring Retry-After within the deadline."""
    retry = DeadlineRetry(
        total=RETRIES,
        connect=3,
        read=0,
        status=RETRIES,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "POST"}),
        backoff_factor=0.5,
        backoff_max=MAX_RETRY_AFTER,
        respect_retry_after_header=True,
        retry_after_max=MAX_RETRY_AFTER,
        raise_on_status=False,
        deadline=deadline,
    )
    session = requests.Session()
    session.trust_env = False  # no .netrc credentials or proxy settings from the environment
    session.verify = True
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session
