"""Terminal output: problems, query results (tables, folded rows, tab-separated lines, `--csv`, `--json`), errors."""

from __future__ import annotations

import csv
import json
import re
import sys
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from cli.checks import Problem

# Terminal control sequences (CSI such as colours and underline, OSC, and two-byte escapes) some errors carry.
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
UNBOUNDED = 1_000_000  # a width to measure what a table needs


def console(stream: TextIO | None = None) -> Console:
    """A console on stdout as it is now (so tests and redirections get the output)."""
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


def strip_ansi(text: str) -> str:
    """The text without terminal control sequences (a library's error may underline the offending token)."""
    return ANSI.sub("", text)


def error_line(message: str) -> None:
    """One red line on stderr, free of the message's own terminal escapes."""
    Console(file=sys.stderr, highlight=False).print(f"[bold red]error:[/] {escape(strip_ansi(message))}", soft_wrap=True)


def to_json(document: Any) -> str:
    """JSON with dates, decimals and other values as text."""
    return json.dumps(document, indent=2, default=lambda value: str(value) if isinstance(value, Decimal) else repr(value))


def print_problems(out: Console, problems: list[Problem], months: int, objects: int, reports: int) -> None:
    """One line per problem (check, report type, period, key, what; then what a person does, if a run cannot fix it), a summary."""
    for p in problems:
        where = " ".join(x for x in (p.report or "", p.month or "", p.key or "") if x)
        out.print(
            f"[red]{escape(p.check)}[/]  {escape(where)}  {escape(p.message)}"
            if where
            else f"[red]{escape(p.check)}[/]  {escape(p.message)}"
        )
        if p.action:
            out.print(f"  [yellow]needs a person[/]: {escape(p.action)}")
    verdict = "[green]no problems[/]" if not problems else f"[bold red]{len(problems)} problem(s)[/]"
    out.print(f"verified {reports} report type(s), {months} period(s), {objects} object(s): {verdict}")


def print_guesses(out: Console, guesses: dict[str, int]) -> None:
    """The periods read with heuristic guesses (not problems: every value is kept in `cells`; the run logged each)."""
    if guesses:
        listed = ", ".join(f"{period} ({n})" for period, n in guesses.items())
        out.print(f"[yellow]heuristic guesses[/] (rows kept whole in `cells`; the run's log names each): {escape(listed)}")


def print_manual(out: Console, problems: list[Problem]) -> None:
    """After a repair: the problems a repair run does not fix, each with what a person does."""
    left = [p for p in problems if not p.repairable]
    if left:
        out.print(f"[bold red]{len(left)} problem(s) need a person[/] (a repair run does not fix them):")
    for p in left:
        where = " ".join(x for x in (p.check, p.report or "", p.month or "", p.key or "") if x)
        out.print(f"  {escape(where)}: {escape(p.action or 'look at it: ' + p.message)}")


def _text(value: Any) -> str:
    """A value as a cell: NULL for None."""
    return "NULL" if value is None else str(value)


def _field(value: Any) -> str:
    """A value as a tab-separated field: empty for None; backslash, tab and line breaks escaped (as `mysql --batch`)."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _fits(out: Console, table: Table) -> bool:
    """True when the table can be drawn in the console's width without cutting a word of any cell or header."""
    unbounded = out.options.update_width(UNBOUNDED)  # measured at the console's width, a table never needs more
    return Measurement.get(out, unbounded, table).minimum <= out.width


def show_table(out: Console, table: Table) -> None:
    """The table; else without its box; else, too wide for the width, one `column: value` block per row (never cut)."""
    if _fits(out, table):
        out.print(table)
        return
    box, padding, collapse, edge = table.box, table.padding, table.collapse_padding, table.pad_edge
    table.box, table.padding, table.collapse_padding, table.pad_edge = None, (0, 1), True, False
    if _fits(out, table):
        out.print(table)
        return
    table.box, table.padding, table.collapse_padding, table.pad_edge = box, padding, collapse, edge
    if table.title:
        out.print(table.title)
    headers = [Text.from_markup(str(column.header)) for column in table.columns]
    width = max((header.cell_len for header in headers), default=0)
    for number, row in enumerate(zip(*(list(column.cells) for column in table.columns), strict=True), 1):
        out.print(f"-[ row {number} ]-")
        for header, cell in zip(headers, row, strict=True):
            out.print(f"{escape(header.plain)}{' ' * (width - header.cell_len)}: {cell}")


def print_result(out: Console, columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    """A query result as CSV, JSON, tab-separated lines (not a terminal) or a table (a terminal)."""
    if fmt == "csv":
        writer = csv.writer(out.file, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    elif fmt == "json":
        out.file.write(to_json([dict(zip(columns, row, strict=True)) for row in rows]) + "\n")
    elif not columns:
        out.print("(no result set)")
    elif not out.is_terminal:
        out.file.write("".join("\t".join(map(_field, line)) + "\n" for line in [columns, *rows]))
    else:
        table = Table(*(escape(c) for c in columns))
        for row in rows:
            table.add_row(*(escape(_text(v)) for v in row))
        show_table(out, table)
        out.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
