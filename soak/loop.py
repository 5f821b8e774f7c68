"""The soak: the local stack behind the fault proxy, the drawn runs, the invariants after each, and the totals."""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.core.months import Month
from infra.local.faultproxy import FaultProxy
from infra.local.stack import BUCKET, DATABASE, TABLE, LocalStack, MotoServer, schedule_event
from soak.awsfaults import AwsFaults
from soak.between import Between
from soak.coverage import note
from soak.draw import FINAL_BUDGET, SAFETY_MARGIN, STOPPED_BY, Draw, RunPlan
from soak.host import FunctionHost, Start, read_output
from soak.invariants import Outcome, Violation, check_final, check_run
from soak.layout import MONTHLY, Layout, Slot
from soak.observe import Archive, observe, partitions

PREFIX = "appstore/"
MONTHS_BACK = 4  # START_MONTH: the current month and the four before it
MULTIPART_THRESHOLD = 64 * 1024
FINAL_RETRIES = 10
LEASE_WAIT = 4  # whole seconds; how long a run waits for another's archive lease: an overlapping run often outwaits the first


@dataclass
class Totals:
    """What the soak did and found."""

    runs: int = 0
    kills: int = 0
    clean_runs: int = 0
    faults: Counter[str] = field(default_factory=Counter)  # kind -> count, e.g. "aws:unacked", "appstore:download:truncate"
    statuses: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)  # "s3.PutObject unacked" -> AWS faults injected
    exercised: Counter[str] = field(default_factory=Counter)  # transaction paths reached (see soak.coverage)
    calls: Counter[str] = field(default_factory=Counter)  # every AWS call of the function by operation
    violations: list[tuple[int, Violation]] = field(default_factory=list)  # (run number, violation)
    seconds: float = 0.0


def overlap_outcome(first: Outcome, second: Outcome) -> str:
    """How two overlapping runs ended, for the summary: a kill, one or both busy, or both ran."""
    if first.killed or second.killed:
        return "a kill"
    busy = first.busy() + second.busy()
    return {0: "both ran", 1: "one busy"}.get(busy, "both busy")


class Soak:
    """One soak: `run()` draws and checks runs until the count or the time is used up, then a final clean run."""

    def __init__(self, seed: int, broken: str | None = None, harsh: bool = False, report: Callable[[str], None] = print) -> None:
        self.seed, self.report = seed, report
        self.current = Month.of(datetime.now(UTC))
        self.months = list(self.current.shift(-MONTHS_BACK).through(self.current))
        self.moto = MotoServer().start()
        self.stack = LocalStack(self.moto.url, prefix=PREFIX)  # every report type (the template's REPORTS)
        years = sorted({m.year for m in self.months})
        self.slots = [Slot(r, str(m)) for r in MONTHLY if MONTHLY[r] for m in self.months]
        self.slots += [Slot(r, f"{y:04d}") for r in MONTHLY if not MONTHLY[r] for y in years]
        self.faults = AwsFaults(BUCKET, PREFIX)
        self.proxy = FaultProxy(self.moto.url, self.faults).__enter__()
        self.layout = Layout(BUCKET, PREFIX)
        self.draw = Draw(seed, self.months, schedule_event(), harsh)
        for month, wanted in self.draw.reports.items():
            self.stack.emulator.set_month(month.year, month.month, rows=wanted.rows, compression=wanted.compression, empty=wanted.empty)
        env = {
            **os.environ,
            **self.stack.env,
            "START_MONTH": str(self.months[0]),
            "LOOKBACK_MONTHS": "2",
            "AWS_ENDPOINT_URL": self.proxy.url,
            "AWS_MAX_ATTEMPTS": "3",  # fewer SDK attempts than the default, to keep runs short; faults still get retried
            "MULTIPART_THRESHOLD_BYTES": str(MULTIPART_THRESHOLD),
            "SOAK_BROKEN": broken or "",
            "SOAK_SAFETY_MARGIN_SECONDS": str(SAFETY_MARGIN),  # the run's time scale (soak.draw)
            "SOAK_LEASE_MARGIN_SECONDS": "1",
            "LEASE_WAIT_SECONDS": str(LEASE_WAIT),
        }
        self.host = FunctionHost(env)
        self.faults.kill = self.host.kill_running
        self.scratch = tempfile.TemporaryDirectory(prefix="soak-")
        self.totals = Totals()
        self.between = Between(seed, self.stack, self.draw, self.layout, self.totals.faults, self.totals.exercised)
        self.seen: set[Violation] = set()

    def archive(self) -> Archive:
        """The archive now, read from moto directly."""
        return observe(self.stack.clients.s3, self.stack.clients.glue, self.layout, DATABASE, TABLE)

    def one(self, plan: RunPlan) -> tuple[Archive, list[Outcome]]:
        """Run the handler as drawn (its changes applied; with an overlap, two at once); the archive after, what each did."""
        queued = sum(times for _, _, times, _ in plan.appstore)
        if not plan.clean:
            self.faults.arm(plan.aws, random.Random(f"{self.seed}/{plan.number}/aws"))
        expiry = threading.Timer(plan.expire_token_at, self.stack.emulator.expire_tokens) if plan.expire_token_at else None
        starts = [Start(plan.event, plan.budget, Path(self.scratch.name) / "run.log", plan.kill_at)]
        if plan.overlap:
            starts.append(Start(plan.overlap.event, plan.budget, Path(self.scratch.name) / "overlap.log", plan.overlap.kill_at))
        ended = self.host.invoke(starts, expiry.start if expiry else lambda: None)
        if expiry:
            expiry.cancel()
        self.faults.disarm()
        aws = self.proxy.reset_counts()
        if self.faults.killed_on:  # the call a drawn kill answered is the kill, not a fault
            aws[self.faults.killed_on] -= 1
            operation, key, when = plan.aws.kill_on or ("", "", "")
            self.totals.exercised[f"killed {when} sending {operation} {PREFIX}{key}"] += 1
            self.faults.killed_on = None
        for operation, n in self.faults.refused.items():
            self.totals.exercised[f"committed, answer lost, retries refused with a 4xx: {operation}"] += n
        outcomes = [read_output(start.out, end) for start, end in zip(starts, ended, strict=True)]
        faults = sum(aws.values()) + queued - self.between.drain() + (1 if plan.expire_token_at else 0)
        for outcome, end in zip(outcomes, ended, strict=True):  # the proxy cannot tell whose calls it faulted: both count all
            outcome.glue_faults = sum(n for (op, _), n in aws.items() if op.startswith("glue."))
            outcome.faults = faults
            self.totals.statuses.update(str(r["status"]) for r in outcome.results)
            if end.hung:
                outcome.error = f"hung: killed after {end}"
            self.totals.exercised["killed at the end of its budget (Lambda's timeout)"] += end.timed_out
        for (operation, kind), n in aws.items():
            self.totals.faults[f"aws:{kind}"] += n
            self.totals.operations[f"{operation} {kind}"] += n
        return self.archive(), outcomes

    def run(self, runs: int, minutes: float, max_violations: int = 0) -> Totals:
        """Draw and check up to `runs` runs within `minutes`, then one final clean run; return the totals."""
        started, totals = time.monotonic(), self.totals
        before, after_kill = self.archive(), False
        for number in range(1, runs + 1):
            if time.monotonic() - started > minutes * 60 or (max_violations and len(totals.violations) >= max_violations):
                break
            plan = self.draw.run(number, after_kill)
            if self.between.apply(plan):  # a partition the run must repair: "before" is the catalog as the run finds it
                before = replace(before, partitions=partitions(self.stack.clients.glue, DATABASE, TABLE))
            after, (outcome, *other) = self.one(plan)
            self._record(number, check_run(before, after, outcome, self.between.served(), after_kill, *other))
            for run in (outcome, *other):
                note(totals.exercised, run, after, after_kill)
                totals.exercised["runs ended busy (the archive lease held)"] += run.busy()
            if other:
                totals.exercised[f"overlapping runs: {overlap_outcome(outcome, other[0])}"] += 1
            if plan.stop and not outcome.returned and STOPPED_BY[plan.stop] in (outcome.error or ""):
                totals.exercised[f"run after a kill stopped at the {plan.stop}"] += 1
                totals.exercised[f"run after a kill stopped at the {plan.stop}, pending transaction settled"] += bool(outcome.settled)
            killed = any(run.killed for run in (outcome, *other))
            totals.runs, totals.kills, totals.clean_runs = number, totals.kills + killed, totals.clean_runs + plan.clean
            if killed:
                after_kill = True
            elif after_kill and outcome.faults == 0 and not all(run.busy() for run in (outcome, *other)):
                after_kill = False
            before = after
            if number % 25 == 0:
                self.report(
                    f"run {number}: {len(totals.violations)} violation(s), {totals.kills} kill(s), {time.monotonic() - started:.0f} s"
                )
        final = RunPlan(totals.runs + 1, {"from": str(self.months[0])}, budget=FINAL_BUDGET, clean=True)
        after, (outcome,) = self.one(final)
        for _ in range(FINAL_RETRIES):  # a killed run's lease has not expired yet: run again, as the next schedule would
            if not outcome.busy():
                break
            totals.exercised["final clean run busy, run again"] += 1
            after, (outcome,) = self.one(final)
        has_report = {at: self.between.has_report(at) for at in self.slots}
        self._record(final.number, check_run(before, after, outcome, self.between.served(), after_kill))
        self._record(final.number, check_final(after, outcome, self.between.served(), has_report))
        totals.exercised["final clean run checked (invariant 8)"] += 1
        totals.calls = Counter(self.faults.seen)
        totals.seconds = time.monotonic() - started
        return totals

    def _record(self, number: int, found: list[Violation]) -> None:
        """Count and print each violation the first time it is seen (a broken state persists over runs)."""
        for violation in found:
            if violation in self.seen:
                continue
            self.seen.add(violation)
            self.totals.violations.append((number, violation))
            where = f" {violation.month}" if violation.month else ""
            self.report(f"VIOLATION seed={self.seed} run={number} invariant {violation.invariant}{where}: {violation.evidence}")

    def close(self) -> None:
        """Stop the function host, the proxy, the emulator and moto server (each by its own handle)."""
        self.host.close()
        self.proxy.__exit__(None, None, None)
        self.stack.close()
        self.moto.stop()
        self.scratch.cleanup()

    def __enter__(self) -> Soak:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
