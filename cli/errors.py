"""Errors as one red line and an exit status (2: usage or target, 1: problems found or run failed), never a traceback."""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from cli import output
from cli.plan import EventError
from cli.query import QueryError
from cli.target import TargetError

USAGE, FAILED = 2, 1


class Failure(click.ClickException):
    """An error shown as one red line, with an exit status."""

    exit_code = USAGE

    def show(self, file: Any = None) -> None:
        """Print the one red line."""
        output.error_line(self.format_message())


class Failed(Failure):
    """A failure that is not the user's input: exit status 1."""

    exit_code = FAILED


def _aws_message(exc: ClientError | BotoCoreError) -> str:
    """An AWS error as one line: operation, code, message."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS {exc.operation_name}: {error.get('Code', '?')}: {error.get('Message', '')}".strip()
    return f"AWS: {exc}"


class Group(click.Group):
    """Turns the errors a command can meet into one line and an exit status, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (TargetError, EventError) as exc:
            raise Failure(str(exc)) from None
        except QueryError as exc:
            raise Failed(str(exc)) from None
        except (ClientError, BotoCoreError) as exc:
            raise Failure(_aws_message(exc)) from None
