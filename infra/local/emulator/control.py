"""The emulator's control state behind one lock: tokens, faults, stats, download headers, rate window and clock."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from infra.local.emulator.faults import FAULTS, Fault
from infra.local.emulator.served import ServedLog
from infra.local.salesdata import MonthOptions


class ControlState:
    """Thread-safe control operations; EmulatorState.__init__ sets the configuration declared here."""

    rate_limit: int | None
    token_ttl: int
    _clock: Callable[[], float]
    _lock: threading.Lock

    def reset(self) -> None:
        """Forget tokens, faults, month settings, restatements, stats, headers, clock offset and served versions."""
        with self._lock:
            self._tokens: dict[str, float] = {}
            self._faults: dict[str, deque[Fault]] = {name: deque() for name in FAULTS}
            self._months: dict[tuple[int, int], MonthOptions] = {}
            self._empty: dict[tuple[int, int], bool] = {}
            self._revisions: dict[tuple[int, int], int] = {}
            self._stats: dict[str, dict[int, int]] = {}
            self._download_headers: list[dict[str, str]] = []
            self._recent: deque[float] = deque()
            self._cache: dict[tuple[int, int], tuple[MonthOptions, str]] = {}
            self._other_cache: dict[tuple[str, int, int | None, int], str | None] = {}
            self._answers: dict[str, str] = {}
            self._offset = 0.0
            self.served = ServedLog()

    def now(self) -> float:
        """The emulator's time: the clock plus any advance_clock offset."""
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's time forward (expires tokens and links)."""
        with self._lock:
            self._offset += seconds

    def inject(self, endpoint: str, fault: str | int, times: int = 1, **options: Any) -> None:
        """Make the next `times` requests to `endpoint` (token/report/download) fail with `fault`."""
        name = str(fault)
        if endpoint not in FAULTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {sorted(FAULTS)}")
        if name not in FAULTS[endpoint]:
            raise ValueError(f"unknown fault {name!r} for {endpoint}; expected one of {sorted(FAULTS[endpoint])}")
        with self._lock:
            self._faults[endpoint].append(Fault(name, int(times), options))

    def take_fault(self, endpoint: str) -> Fault | None:
        """Consume one application of the oldest pending fault for an endpoint."""
        with self._lock:
            queue = self._faults[endpoint]
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            return Fault(fault.name, 1, dict(fault.options))

    def expire_tokens(self) -> None:
        """Make every issued token expired."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def issue_token(self) -> str:
        """A valid access token without an HTTP round trip."""
        token = "Atc|" + secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[token] = self.now() + self.token_ttl
        return token

    def token_expiry(self, token: str) -> float | None:
        """When an issued token expires (emulator time), or None for an unknown token."""
        with self._lock:
            return self._tokens.get(token)

    def rate_limited(self) -> bool:
        """True when the report endpoint already served rate_limit requests in the last second."""
        if not self.rate_limit:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                return True
            self._recent.append(now)
            return False

    def stats(self) -> dict[str, dict[int, int]]:
        """Request counts per endpoint (token/report/download/admin/other) and HTTP status."""
        with self._lock:
            return {endpoint: dict(counts) for endpoint, counts in self._stats.items()}

    def count(self, endpoint: str, status: int) -> None:
        """Count one request in the stats."""
        with self._lock:
            counts = self._stats.setdefault(endpoint, {})
            counts[status] = counts.get(status, 0) + 1

    @property
    def download_headers(self) -> list[dict[str, str]]:
        """Headers of every download request (Authorization values redacted)."""
        with self._lock:
            return [dict(h) for h in self._download_headers]

    def record_download(self, headers: dict[str, str]) -> None:
        """Keep a download request's headers, with any Authorization value redacted."""
        kept = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
        with self._lock:
            self._download_headers.append(kept)
