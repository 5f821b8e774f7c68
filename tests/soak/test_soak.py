"""The randomized fault soak: a short fixed-seed soak finds nothing, and the soak finds a deliberately broken archiver."""

from __future__ import annotations

import pytest

from soak.__main__ import summary
from soak.loop import Soak

pytestmark = pytest.mark.integration

SEED = 20261130


def test_short_soak_with_a_fixed_seed_finds_no_violation() -> None:
    """About 90 s: drawn runs with Appstore and AWS faults, kills and short budgets, then a final clean run."""
    with Soak(SEED, report=lambda line: None) as soak:
        totals = soak.run(runs=30, minutes=1.5)
    print(summary(SEED, totals))
    assert totals.runs >= 10
    assert sum(n for kind, n in totals.faults.items() if kind.startswith("aws:")) > 0
    assert [f"run {n}: invariant {v.invariant} {v.month}: {v.evidence}" for n, v in totals.violations] == []


def invariant_4(broken: str | None) -> list[str]:
    """Invariant 4 violations of a harsh soak (every run restates a month and fails every raw upload)."""
    with Soak(3, broken=broken, harsh=True, report=lambda line: None) as soak:
        totals = soak.run(runs=4, minutes=1.0)
    return [f"run {n}: {v.month}: {v.evidence}" for n, v in totals.violations if v.invariant == 4]


def test_the_soak_reports_an_archiver_that_never_rolls_back() -> None:
    """With every rollback skipped, a month whose raw upload failed keeps its new curated object: invariant 4."""
    assert invariant_4("no-rollback")
    assert invariant_4(None) == []  # the same runs against the real archiver
