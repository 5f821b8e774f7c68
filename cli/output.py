"""Terminal output: problems, query results as rich tables, `--json` and `--csv` (the status view is cli.statusview)."""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.checks import Problem


def console(stream: TextIO | None = None) -> Console:
    """A console on stdout as it is now (so tests and redirections get the output)."""
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """One red line on stderr."""
    Console(file=sys.stderr, highlight=False).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def to_json(document: Any) -> str:
    """JSON with dates, decimals and other values as text."""
    return json.dumps(document, indent=2, default=lambda value: str(value) if isinstance(value, Decimal) else repr(value))


def print_problems(out: Console, problems: list[Problem], months: int, objects: int, reports: int) -> None:
    """One line per problem (check, report type, period, key, what), then a summary."""
    for p in problems:
        where = " ".join(x for x in (p.report or "", p.month or "", p.key or "") if x)
        out.print(
            f"[red]{escape(p.check)}[/]  {escape(where)}  {escape(p.message)}"
            if where
            else f"[red]{escape(p.check)}[/]  {escape(p.message)}"
        )
    verdict = "[green]no problems[/]" if not problems else f"[bold red]{len(problems)} problem(s)[/]"
    out.print(f"verified {reports} report type(s), {months} period(s), {objects} object(s): {verdict}")


def _text(value: Any) -> str:
    """A value as a cell: NULL for None."""
    return "NULL" if value is None else str(value)


def print_result(out: Console, columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    """A query result as a table, CSV or JSON."""
    if fmt == "csv":
        writer = csv.writer(out.file, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    elif fmt == "json":
        out.file.write(to_json([dict(zip(columns, row, strict=True)) for row in rows]) + "\n")
    elif not columns:
        out.print("(no result set)")
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(escape(_text(v)) for v in row))
        out.print(table)
        out.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
