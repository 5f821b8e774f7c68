"""`run` and `verify --repair`: start a run (deployed: async invoke + logs; local: in-process) and show its progress."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.console import Console
from rich.markup import escape

from archiver.core.periods import Period
from archiver.core.report_types import BY_NAME
from cli import follow, localrun
from cli.plan import planned_months
from cli.progress import RunDisplay
from cli.target import Target

FOLLOW_SECONDS = 20 * 60.0  # the function's 15-minute timeout, plus time in the asynchronous queue
LOOKBEHIND_MS = 60_000  # log events are read from a minute before the invoke (clock skew)


def execute(
    target: Target,
    event: dict[str, Any],
    out: Console,
    *,
    detach: bool = False,
    timeout: float = FOLLOW_SECONDS,
    poll: float = 2.0,
) -> bool:
    """Run the function with the event and show its progress; True when the run succeeded (or was only started)."""
    planned = planned_months(target, event)
    shown = json.dumps(event, separators=(",", ": "))
    out.print(f"{escape(target.label)}: event {escape(shown)}, {len(planned)} period(s) planned{_span(planned)}")
    if target.local:
        return _local(target, event, out, planned)
    assert target.function is not None
    since = int(time.time() * 1000) - LOOKBEHIND_MS
    request_id = follow.start(target.lambda_(), target.function, event)
    out.print(f"started run {request_id} (asynchronous invoke of {escape(target.function)})")
    if detach:
        return True
    run = follow.RunLog(request_id)
    group = f"/aws/lambda/{target.function}"
    with RunDisplay(out, planned, "run") as display:
        follow.follow(target.logs(), group, run, since, display.month, timeout, poll)
    if not run.ended:
        out.print(f"[bold red]no end of run {request_id} in {group} after {timeout:.0f} s[/]; the run may still be going")
        return False
    return _verdict(out, display, run.errors, run.busy)


def _runs(report: str, periods: list[str]) -> str:
    """A type's periods in time order, consecutive ones as `first … last`: `2020-01, 2026-09 … 2026-11`."""
    ordered = sorted(BY_NAME[report].parse_period(p) for p in set(periods))
    runs: list[list[Period]] = []
    for period in ordered:
        if runs and runs[-1][-1].shift(1) == period:
            runs[-1].append(period)
        else:
            runs.append([period])
    return ", ".join(f"{run[0]} … {run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def _span(planned: list[tuple[str, str]]) -> str:
    """Each report type's planned periods in brief: ` (sales 2024-01 … 2024-03 (3), earnings_yearly 2024)`."""
    by_report: dict[str, list[str]] = {}
    for report, period in planned:
        by_report.setdefault(report, []).append(period)
    brief = (f"{r} {_runs(r, p)}" + (f" ({len(p)})" if len(p) > 1 else "") for r, p in by_report.items())
    return f" ({', '.join(brief)})" if planned else ""


def _local(target: Target, event: dict[str, Any], out: Console, planned: list[tuple[str, str]]) -> bool:
    """The handler in this process against the local stack."""
    with RunDisplay(out, planned, "run (local)") as display:
        error, busy = localrun.run_local(target, event, display.month)
    return _verdict(out, display, [error] if error else [], busy)


def _verdict(out: Console, display: RunDisplay, errors: list[str], busy: str | None = None) -> bool:
    """Print the outcome counts and the run's errors (or why it was busy); True when nothing failed."""
    if busy:  # not a failure of the archive, but nothing was done: not a success either
        out.print(f"[bold yellow]run busy[/]: {escape(busy)}. Run again once that run has ended (or its lease has expired)")
        return False
    failed = bool(errors or display.failed)
    colour = "bold red" if failed else "green"
    out.print(f"[{colour}]run {'failed' if failed else 'succeeded'}[/]: {escape(display.summary())}")
    for error in errors:
        out.print(f"  [red]{escape(error)}[/]")
    return not failed
