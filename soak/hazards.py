"""Draws that hit the archive from outside one run: lifecycle expiry between runs, a second invocation, refused retries.

Each is drawn from its own `random.Random(f"{S}/{N}/hazards")`, so adding them left every other draw of
run N of seed S as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# The uploads whose first attempt may commit with its answer lost, the SDK's retry then being refused with a 4xx.
REFUSED_TARGETS = ("s3.PutObject", "s3.UploadPart", "s3.CompleteMultipartUpload")


@dataclass(frozen=True)
class Overlap:
    """A second invocation started together with the run, on the same archive, with its own event and kill."""

    event: dict[str, Any]
    kill_at: float | None = None


@dataclass(frozen=True)
class Hazards:
    """What hits run N besides its own faults."""

    expire_after: float | None = None  # lifecycle: delete noncurrent versions noncurrent for this many seconds, before the run
    lease_expires: bool = False  # after a kill: time enough passes before the run for a killed run's lease to expire
    overlap: Overlap | None = None
    refused: tuple[str, int, str] | None = None  # (operation, n-th call on a key containing the part, part)


def draw(seed: int, number: int, after_kill: bool, clean: bool, event: dict[str, Any]) -> Hazards:
    """Run `number`'s hazards; a clean run gets none of its own, but lifecycle expiry still happens before it."""
    rng = random.Random(f"{seed}/{number}/hazards")
    expire = None
    if rng.random() < (0.5 if after_kill else 0.1):  # after a kill: a pending transaction's old versions may go
        expire = 0.0 if rng.random() < 0.5 else round(rng.uniform(0.5, 20.0), 1)
    lease_expires = after_kill and rng.random() < 0.7  # else the runs before its expiry end busy (or take it over)
    if clean:
        return Hazards(expire, lease_expires=lease_expires)
    overlap = None
    if rng.random() < 0.1:  # the same event (a retried delivery) or the schedule's, with a kill drawn on either
        overlap = Overlap(dict(event) if rng.random() < 0.5 else {}, rng.uniform(0.05, 2.5) if rng.random() < 0.25 else None)
    refused = None
    if rng.random() < 0.12:  # mostly the raw upload: the curated one is in place, the raw one committed unbeknown
        refused = (rng.choice(REFUSED_TARGETS), rng.randint(1, 2), rng.choice(("/raw/", "/raw/", "")))
    return Hazards(expire, lease_expires, overlap, refused)
