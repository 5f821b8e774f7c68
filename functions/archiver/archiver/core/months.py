"""A calendar month value: parsing, ordering and arithmetic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month, ordered by time."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: object) -> Month:
        """Parse a `YYYY-MM` string, or raise ValueError naming the value."""
        match = _MONTH.fullmatch(text) if isinstance(text, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"invalid month {text!r}: expected 'YYYY-MM'")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The month a datetime falls in."""
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def mm(self) -> str:
        """The zero-padded month number."""
        return f"{self.month:02d}"

    def shift(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def through(self, last: Month) -> Iterator[Month]:
        """Every month from this one to `last`, inclusive."""
        current = self
        while current <= last:
            yield current
            current = current.shift(1)
