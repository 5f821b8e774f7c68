"""The `report` command: the archive's sales, earnings, restatements and completeness as one HTML file."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from cli import output
from cli.errors import Failed, Failure
from cli.options import Selected, target_options
from cli.report import build
from cli.report.collect import NothingArchived, collect
from cli.report.source import asking


def month_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --from/--to month: YYYY-MM."""
    if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)")
    return value


@click.command("report")
@target_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("appstore-report.html"), show_default=True)
@click.option("--from", "first", metavar="YYYY-MM", callback=month_option, help="first month (default: the archive's first)")
@click.option("--to", "last", metavar="YYYY-MM", callback=month_option, help="last month (default: the current one)")
def report_command(target: Selected, out: Path, first: str | None, last: str | None) -> None:
    """Write one self-contained HTML report (charts and tables, opens offline) and print its path."""
    if first and last and first > last:
        raise Failure(f"--from {first} is after --to {last}")
    chosen = target()
    with output.console(sys.stderr).status("running the report's queries…"), asking(chosen) as ask:
        try:
            label = f"Glue table {chosen.database}.{chosen.table}, " + (f"stack {chosen.stack}" if chosen.stack else "local stack")
            data = collect(ask, chosen.database, chosen.table, label, first, last)
        except NothingArchived as exc:
            raise Failed(str(exc)) from None
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    click.echo(build.write(data, out, generated))
