"""The earnings (monthly, yearly) and subscription reports the emulator serves: ILLUSTRATIONS from infra/local/otherdata.py."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from infra.local import otherdata

if TYPE_CHECKING:
    from infra.local.emulator.state import EmulatorState

OTHER_TYPES = ("earnings", "earnings_yearly", "subscription")
FIRST_YEAR = 2018


def parse_path(parts: list[str]) -> tuple[str, int, int | None] | None:
    """(report type, year, month or None) of a link path's parts, or None for a path Amazon does not know."""
    if len(parts) == 2 and parts[0] == "earnings" and parts[1].isdigit():
        return "earnings_yearly", int(parts[1]), None
    if len(parts) == 3 and parts[0] in ("sales", "earnings", "subscription") and parts[1].isdigit() and parts[2].isdigit():
        return parts[0], int(parts[1]), int(parts[2])
    return None


def _file(kind: str, year: int, month: int | None, now: time.struct_time) -> tuple[str, bytes] | None:
    """The served name and bytes of a period's file, or None when there is no report (yet)."""
    current = now.tm_year * 12 + now.tm_mon - 1
    if kind == "earnings_yearly":
        finished = 12 if year < now.tm_year else now.tm_mon - 1  # months of the year that have ended
        if not FIRST_YEAR <= year <= now.tm_year or finished < 1:
            return None
        return f"earnings_{year:04d}.zip", otherdata.yearly_earnings(year, finished)
    assert month is not None
    index = year * 12 + month - 1
    if not 1 <= month <= 12 or year < FIRST_YEAR:
        return None
    if kind == "earnings":  # final about 30 days after the month ends
        return (f"earnings_{year:04d}_{month:02d}.csv.gz", otherdata.monthly_earnings(year, month)) if index <= current - 2 else None
    if index > current:
        return None
    last_day = now.tm_mday if index == current else None
    return f"subscription_{year:04d}_{month:02d}.csv.gz", otherdata.subscription(year, month, last_day)


def other_key(emu: EmulatorState, kind: str, year: int, month: int | None) -> str | None:
    """Generate (or reuse) a period's file in the bucket and return its key; None when there is no report."""
    now = time.gmtime(emu.now())
    cache_key = (kind, year, month, now.tm_mday if (year, month) == (now.tm_year, now.tm_mon) else 0)
    with emu._generate_lock:
        if cache_key in emu._other_cache:
            return emu._other_cache[cache_key]
        found = _file(kind, year, month, now)
        key = None
        if found is not None:
            key = f"{emu.vendor_id}/{kind}/{found[0]}"
            emu.s3.put_object(Bucket=emu.bucket, Key=key, Body=found[1])
        emu._other_cache[cache_key] = key
        return key
