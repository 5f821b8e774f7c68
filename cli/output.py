"""Terminal output: rich tables, the status calendar, `--json` and `--csv`."""

from __future__ import annotations

import calendar
import csv
import json
import sys
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.checks import Problem

CELLS = {
    "archived": ("A", "green"),
    "not_found": ("-", "yellow"),
    "deferred": (">", "magenta"),
    "pending": ("P", "bold red"),
    "quarantined": ("Q", "bold red"),
    "missing": ("?", "red"),
}


def console(stream: TextIO | None = None) -> Console:
    """A console on stdout as it is now (so tests and redirections get the output)."""
    return Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """One red line on stderr."""
    Console(file=sys.stderr, highlight=False).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def to_json(document: Any) -> str:
    """JSON with dates, decimals and other values as text."""
    return json.dumps(document, indent=2, default=lambda value: str(value) if isinstance(value, Decimal) else repr(value))


def calendar_table(months: list[dict[str, Any]]) -> Table:
    """Years down, months across, one symbol per month."""
    table = Table(title="Archive calendar", show_lines=False)
    table.add_column("year")
    for number in range(1, 13):
        table.add_column(calendar.month_abbr[number], justify="center")
    by_year: dict[str, dict[int, str]] = {}
    for month in months:
        year, mm = month["month"].split("-")
        by_year.setdefault(year, {})[int(mm)] = month["state"]
    for year, states in sorted(by_year.items()):
        cells = [f"[{CELLS[s][1]}]{CELLS[s][0]}[/]" if (s := states.get(n)) else "" for n in range(1, 13)]
        table.add_row(year, *cells)
    table.caption = "  ".join(f"[{colour}]{symbol}[/] {state.replace('_', ' ')}" for state, (symbol, colour) in CELLS.items())
    return table


def archived_table(months: list[dict[str, Any]]) -> Table:
    """Rows, bytes and last-archived time of every archived month."""
    table = Table(title="Archived months")
    for name, justify in (("month", "left"), ("state", "left"), ("rows", "right"), ("bytes", "right"), ("last archived (UTC)", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for m in months:
        if m["bytes"] is not None:
            rows = "?" if m["rows"] is None else f"{m['rows']:,}"
            table.add_row(m["month"], m["state"], rows, f"{m['bytes']:,}", m["archived_at"][:19].replace("T", " "))
    return table


def print_status(out: Console, report: dict[str, Any]) -> None:
    """The status report as the terminal shows it."""
    out.print(f"[bold]{escape(report['target'])}[/]  archive {escape(report['archive'])}  table {escape(report['table'])}")
    out.print(calendar_table(report["months"]))
    counts = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in report["counts"].items() if n)
    out.print(f"months: {counts or 'none'}")
    out.print(archived_table(report["months"]))
    if "last_successful_run" in report:
        out.print(f"last successful run: {report['last_successful_run'] or 'none in the last 14 days'} (hour of the RunSucceeded metric)")
        alarms = report["alarms"]
        out.print(f"alarms in ALARM: {len(alarms) or 'none'}")
        for alarm in alarms:
            out.print(f"  [bold red]{escape(alarm['name'])}[/] since {alarm['since'][:19]}  {escape(alarm['reason'])}")


def print_problems(out: Console, problems: list[Problem], months: int, objects: int) -> None:
    """One line per problem, then a summary."""
    for p in problems:
        where = " ".join(x for x in (p.month or "", p.key or "") if x)
        out.print(
            f"[red]{escape(p.check)}[/]  {escape(where)}  {escape(p.message)}"
            if where
            else f"[red]{escape(p.check)}[/]  {escape(p.message)}"
        )
    verdict = "[green]no problems[/]" if not problems else f"[bold red]{len(problems)} problem(s)[/]"
    out.print(f"verified {months} month(s), {objects} object(s): {verdict}")


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
