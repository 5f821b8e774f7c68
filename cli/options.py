"""The target options every command takes: --stack/--region, or --local/--state-file."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

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
