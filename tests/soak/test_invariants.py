"""When invariant 6 applies: a run that got past the token, not one that only settled a killed run's transaction."""

from __future__ import annotations

from archiver.upkeep import SETTLING
from soak.invariants import Outcome


def test_settling_alone_is_not_reaching_the_months() -> None:
    settled = {"month": "2026-11", "status": "failed", "error": f"{SETTLING} could not be settled: ClientError: injected"}
    stopped = Outcome(results=[settled], error="AppstoreError: token endpoint failed with HTTP 500")
    assert not stopped.reached_months()  # stopped at the token: partitions were never repaired


def test_a_month_result_or_a_failure_raised_after_the_months_is_reaching_them() -> None:
    settled = {"month": "2026-11", "status": "failed", "error": f"{SETTLING} could not be settled: ClientError: injected"}
    own = {"month": "2026-10", "status": "failed", "error": "ClientError: injected"}
    assert Outcome(results=[settled, own], error="RunFailedError: 2 month(s) failed").reached_months()
    assert Outcome(results=[settled], error="RunFailedError: 1 month(s) failed: 2026-11").reached_months()  # its plan emptied
    assert Outcome(results=[{"month": "2026-10", "status": "archived", "error": None}]).reached_months()
