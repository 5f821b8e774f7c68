"""The run's time budget: every wait of a month ends before the Lambda timeout, minus a safety margin."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class OutOfTime(RuntimeError):
    """A wait would outlast the run's time budget: the month stops here instead of being killed mid-way."""


class Deadline:
    """Lambda time left minus a margin, on a monotonic clock, re-read whenever the run asks for the time left."""

    def __init__(self, time_left: Callable[[], float], margin: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._source, self._margin, self._clock = time_left, margin, clock
        self._end = math.inf  # unknown until the run first reads the time left: the fixed limits apply alone

    def time_left(self) -> float:
        """The Lambda time left (seconds), as the source says; also fixes the budget's end."""
        left = self._source()
        self._end = self._clock() + left - self._margin
        return left

    def remaining(self) -> float:
        """Seconds a month may still wait for anything."""
        return self._end - self._clock()

    def check(self, seconds: float, what: str) -> None:
        """Raise OutOfTime if waiting `seconds` for `what` would outlast the budget."""
        left = self.remaining()
        if seconds > left and seconds <= 0:
            raise OutOfTime(f"{what} ran out of time: the run has reached its safety margin before the Lambda timeout")
        if seconds > left:
            raise OutOfTime(f"{what} would take {seconds:.0f} s, but the run has {max(left, 0.0):.0f} s left before its safety margin")

    def sleep(self, seconds: float, what: str) -> None:
        """Sleep, unless the wait would outlast the budget."""
        self.check(seconds, what)
        if seconds > 0:
            time.sleep(seconds)

    def timeout(self, connect: float, read: float, what: str) -> tuple[float, float]:
        """A (connect, read) timeout no longer than the budget left; OutOfTime when none is left."""
        left = self.remaining()
        if left <= 0:
            raise OutOfTime(f"no time left for {what} before the run's safety margin")
        return min(connect, left), min(read, left)


NO_DEADLINE = Deadline(lambda: math.inf, 0.0)
