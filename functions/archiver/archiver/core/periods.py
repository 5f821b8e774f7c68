"""Periods: a calendar year (the yearly reports' period, with Month's interface), and a period a run plans to fetch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from archiver.core.months import Month

_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True, order=True)
class Year:
    """One calendar year, ordered by time."""

    year: int

    @classmethod
    def parse(cls, text: object) -> Year:
        """Parse a `YYYY` string, or raise ValueError naming the value."""
        if not isinstance(text, str) or _YEAR.fullmatch(text) is None:
            raise ValueError(f"invalid year {text!r}: expected 'YYYY'")
        return cls(int(text))

    @classmethod
    def of(cls, moment: datetime | Month) -> Year:
        """The year a datetime or a month falls in."""
        return cls(moment.year)

    def __str__(self) -> str:
        return f"{self.year:04d}"

    def shift(self, years: int) -> Year:
        """The year `years` later (earlier when negative)."""
        return Year(self.year + years)

    def through(self, last: Year) -> Iterator[Year]:
        """Every year from this one to `last`, inclusive."""
        return (Year(y) for y in range(self.year, last.year + 1))


# The period a report file covers: a month for monthly reports, a year for yearly ones.
Period = Month | Year


def between(first: Period, last: Period) -> list[Period]:
    """Every period from `first` to `last` inclusive (both months, or both years)."""
    if isinstance(first, Month) and isinstance(last, Month):
        return list(first.through(last))
    if isinstance(first, Year) and isinstance(last, Year):
        return list(first.through(last))
    raise TypeError(f"cannot range from {type(first).__name__} {first} to {type(last).__name__} {last}")


@dataclass(frozen=True)
class PlannedMonth:
    """One period (a month, or a year for a yearly type) to fetch, and whether to rewrite it even when unchanged."""

    month: Period
    force: bool
    recheck: bool = False  # asked again although marked "not found"
    repair: bool = False  # named by a `repair` event: rewritten even when its metadata says unchanged (the guard still applies)
