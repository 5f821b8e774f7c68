"""A lease as one read saw it: its holder and ETag, and whether it has expired.

The lease body names its holder and its duration (`seconds`). Whether it has expired is judged by S3's clock, never a
reader's: the lease object's `LastModified` plus its duration, against the `Date` header of the response that read it,
so a run whose clock runs ahead cannot take over a live lease (`expires` in the body is the writer's estimate, for
people).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

_HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")


@dataclass(frozen=True)
class Clock:
    """The wall clock and sleep a lease uses (tests give their own)."""

    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep


SYSTEM = Clock()


@dataclass(frozen=True)
class Found:
    """The lease as one read saw it: its body and ETag, and its expiry and the read's time, both by S3's clock."""

    body: dict[str, Any]
    etag: str
    expires: datetime | None  # None: no readable expiry (treated as expired)
    now: datetime  # the read's `Date` header (S3's time), else the reader's clock

    @property
    def holder(self) -> str:
        """Who holds it, as its body says."""
        return str(self.body.get("holder", "?"))

    @property
    def expired(self) -> bool:
        """Whether its expiry has passed by S3's clock (a lease without a readable expiry has)."""
        return self.expires is None or self.expires <= self.now

    @property
    def until(self) -> str:
        """Its expiry for people (ISO 8601, S3's clock)."""
        return self.expires.isoformat() if self.expires is not None else "expired"


def _utc(moment: datetime) -> datetime:
    """An aware datetime (a naive one, such as an HTTP date in `-0000`, is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def judge(body: dict[str, Any], etag: str, modified: datetime | None, date: str | None, local: datetime) -> Found:
    """A lease read at S3's `date` (the reader's clock `local` without one): expired `seconds` after it was written."""
    dates = _HTTP_DATE.findall(str(date or ""))  # a proxy may join its own Date to S3's: the first is taken
    try:
        now = parsedate_to_datetime(dates[0] if dates else str(date)) if date else local
    except (TypeError, ValueError):
        now = local
    expires: datetime | None = None
    try:
        seconds = float(body["seconds"])
        if modified is not None and math.isfinite(seconds):
            expires = _utc(modified) + timedelta(seconds=seconds)
    except (KeyError, ValueError, TypeError):  # written without a duration: its own `expires`, still against S3's time
        try:
            expires = datetime.fromisoformat(str(body["expires"]))
        except (KeyError, ValueError, TypeError):
            expires = None
    return Found(body, etag, _utc(expires) if expires is not None else None, _utc(now))
