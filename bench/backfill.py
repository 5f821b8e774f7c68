"""Wall time of a full backfill (2018-01 → now, small files) against the rate-limit floor of the report links."""

from __future__ import annotations

from datetime import UTC, datetime

from archiver.core.months import Month
from archiver.run.plan import FIRST_MONTH
from bench.common import Bench, Row, median, series
from bench.local import ChildRun, run_handler
from infra.local.stack import LocalStack

NAME = "backfill"
RATE = 3.0  # report-link requests per second, enforced by the emulator
TARGET = 1.2
SHARED = "backfilled"  # (stack generation, stack) left for the daily-run benchmark


def first_month(bench: Bench) -> Month:
    """2018-01, or four months back with --quick."""
    return Month.of(datetime.now(UTC)).shift(-3) if bench.quick else FIRST_MONTH


def backfill(bench: Bench) -> tuple[LocalStack, ChildRun, int]:
    """A fresh stack, every report file pre-generated, then one scheduled run in a fresh process; checks the outcome."""
    stack = bench.local.stack()
    start = first_month(bench)
    stack.env["START_MONTH"] = str(start)
    months = list(start.through(Month.of(datetime.now(UTC))))
    for month in months:  # the emulator's file generation is not the archiver's time
        if stack.emulator.has_report(month.year, month.month):
            stack.emulator.object_key(month.year, month.month)
    result = run_handler(stack, {})
    if result.error or sum(result.statuses.values()) != len(months) or set(result.statuses) - {"archived", "not_found"}:
        raise RuntimeError(f"the backfill did not archive every month: {result}")
    bench.shared[SHARED] = (bench.local.generation, stack)
    return stack, result, len(months)


def backfilled(bench: Bench) -> LocalStack:
    """The stack of the last backfill if it is still current, else a new backfill's."""
    generation, stack = bench.shared.get(SHARED, (None, None))
    if generation == bench.local.generation and stack is not None:
        return stack  # type: ignore[no-any-return]
    return backfill(bench)[0]


def run(bench: Bench) -> list[Row]:
    """Time the scheduled run's handler (import excluded) over a full backfill; floor = months ÷ 3 s."""
    walls: list[float] = []
    throttled: list[int] = []
    for _ in range(bench.times(3)):
        stack, result, months = backfill(bench)
        walls.append(result.handler_s)
        throttled.append(stack.emulator.stats().get("report", {}).get(429, 0))
    floor = months / RATE
    ratio = median(walls) / floor
    detail = f"{months} months ({first_month(bench)} → now), seconds: {series(walls)}; HTTP 429 answers per run: {throttled}"
    figure, baseline = f"{median(walls):.1f} s", f"{floor:.1f} s ({months} ÷ {RATE:.0f}/s)"
    measure = f"backfill {first_month(bench)} → now, {months} months"
    return [Row(NAME, measure, figure, baseline, ratio, f"≤ {TARGET}× floor", ratio <= TARGET, detail)]
