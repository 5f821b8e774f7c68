"""The options commands share: the target (--stack/--region, or --local/--state-file) and --report."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archiver.core.report_types import DEFAULT_REPORTS, REPORT_TYPES, ReportsError, ReportType, parse_reports
from cli.localstate import from_state_file
from cli.target import Target, TargetError, from_stack

Selected = Callable[[], Target]  # resolves the target the options select


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--stack/--region or --local/--state-file, the same on every command; the command gets `target` (resolved on use)."""

    @functools.wraps(command)
    def resolved(stack: str | None, region: str | None, local: bool, state_file: Path | None, **rest: Any) -> Any:
        return command(lambda: resolve(stack, region, local, state_file), **rest)

    options = [
        click.option("--stack", envvar="APPSTORE_ARCHIVE_STACK", metavar="NAME", help="deployed stack (its outputs name everything)"),
        click.option("--region", metavar="REGION", help="the stack's Region (default: AWS_REGION / your profile's)"),
        click.option("--local", is_flag=True, help="the local stack of `make demo DEMO_ARGS=--keep-running`"),
        click.option("--state-file", type=click.Path(path_type=Path), help="the local stack's state file (default .demo/stack.json)"),
    ]
    for option in reversed(options):
        resolved = option(resolved)
    return resolved


def resolve(stack: str | None, region: str | None, local: bool, state_file: Path | None) -> Target:
    """The one target the options select."""
    if local or state_file:
        if stack and local:
            raise TargetError("give either --stack or --local, not both")
        return from_state_file(state_file)
    if not stack:
        raise TargetError("give --stack NAME (a deployed stack) or --local (the local demo stack)")
    return from_stack(stack, region)


def report_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--report NAME (repeatable): the report types to look at; the command gets `reports` (names, empty for the default)."""
    names = click.Choice([r.name for r in REPORT_TYPES])
    help_ = "only this report type (repeatable; default: the function's REPORTS, else all)"
    return click.option("--report", "reports", multiple=True, type=names, metavar="NAME", help=help_)(command)


def chosen_reports(target: Target, names: tuple[str, ...]) -> tuple[ReportType, ...]:
    """The report types named, else those the function's REPORTS selects, else all of them (in the table's order)."""
    if names:
        return parse_reports(",".join(names))
    try:
        return parse_reports(target.environment().get("REPORTS", DEFAULT_REPORTS))
    except ReportsError:  # a misconfigured function: look at every type
        return REPORT_TYPES
