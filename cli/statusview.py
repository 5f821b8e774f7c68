"""The status document as the terminal shows it: one calendar per report type, the archived periods, the stack's health."""

from __future__ import annotations

import calendar
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.output import show_table

CELLS = {
    "archived": ("A", "green"),
    "not_found": ("-", "yellow"),
    "deferred": (">", "magenta"),
    "pending": ("P", "bold red"),
    "quarantined": ("Q", "bold red"),
    "missing": ("?", "red"),
    "not_planned": (".", "dim"),  # before START_MONTH: the default plan never fetches it
}


def _cell(state: str | None) -> str:
    return f"[{CELLS[state][1]}]{CELLS[state][0]}[/]" if state else ""


def calendar_table(name: str, months: list[dict[str, Any]]) -> Table:
    """Years down, months across, one symbol per month."""
    table = Table(title=f"{name}: calendar", show_lines=False)
    table.add_column("year")
    for number in range(1, 13):
        table.add_column(calendar.month_abbr[number], justify="center")
    by_year: dict[str, dict[int, str]] = {}
    for month in months:
        year, mm = month["month"].split("-")
        by_year.setdefault(year, {})[int(mm)] = month["state"]
    for year, states in sorted(by_year.items()):
        table.add_row(year, *(_cell(states.get(n)) for n in range(1, 13)))
    return table


def years_table(name: str, years: list[dict[str, Any]]) -> Table:
    """One row of years, one symbol per year (a yearly report type)."""
    table = Table(title=f"{name}: calendar (yearly)", show_lines=False)
    for year in years:
        table.add_column(year["month"], justify="center")
    table.add_row(*(_cell(year["state"]) for year in years))
    return table


def archived_table(reports: dict[str, dict[str, Any]]) -> Table:
    """Rows, bytes, heuristic guesses and last-archived time of every archived period of every report type."""
    table = Table(title="Archived periods")
    columns = (("report", "left"), ("period", "left"), ("state", "left"), ("rows", "right"), ("bytes", "right"), ("guesses", "right"))
    for name, justify in (*columns, ("last archived (UTC)", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for report, section in reports.items():
        for m in section["months"]:
            if m["bytes"] is not None:
                rows = "?" if m["rows"] is None else f"{m['rows']:,}"
                guesses = "" if not m["guesses"] else f"[yellow]{m['guesses']:,}[/]"
                table.add_row(report, m["month"], m["state"], rows, f"{m['bytes']:,}", guesses, m["archived_at"][:19].replace("T", " "))
    return table


def open_periods_table(reports: dict[str, dict[str, Any]]) -> Table:
    """Every period of every report type that is not archived, or whose last run reported an error (the periods table)."""
    table = Table(title="Periods not archived, or with an error (the periods table)")
    for name in ("report", "period", "status", "last error"):
        table.add_column(name)
    for report, section in reports.items():
        for row in section["periods"]:
            if row["status"] != "archived" or row["last_error"]:
                table.add_row(report, row["period"], row["status"], escape(row["last_error"] or ""))
    return table


def print_report(out: Console, name: str, section: dict[str, Any]) -> None:
    """One report type: its calendar, counts, table and notes."""
    show_table(out, calendar_table(name, section["months"]) if section["period"] == "month" else years_table(name, section["months"]))
    counts = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in section["counts"].items() if n)
    out.print(f"{escape(name)} ({section['period']}ly, table {escape(section['table'])}): {counts or 'none'}")
    if section["table_error"]:
        out.print(f"  [bold red]table:[/] {escape(section['table_error'])}")
    if note := section["unsupported"]:
        since, again = note["since"][:19].replace("T", " "), note["asked_again_after"][:19].replace("T", " ")
        out.print(f"  [yellow]unsupported[/]: the API refused {escape(name)} as unknown on {since} UTC; asked again after {again} UTC")


def print_status(out: Console, document: dict[str, Any]) -> None:
    """The status document as the terminal shows it."""
    out.print(f"[bold]{escape(document['target'])}[/]  archive {escape(document['archive'])}")
    for name, section in document["reports"].items():
        print_report(out, name, section)
    out.print("  ".join(f"[{colour}]{symbol}[/] {state.replace('_', ' ')}" for state, (symbol, colour) in CELLS.items()))
    show_table(out, archived_table(document["reports"]))
    show_table(out, open_periods_table(document["reports"]))
    if "last_successful_run" in document:
        run = document["last_successful_run"] or "none in the last 14 days"
        out.print(f"last successful run: {run} (hour of the RunSucceeded metric)")
        alarms = document["alarms"]
        out.print(f"alarms in ALARM: {len(alarms) or 'none'}")
        for alarm in alarms:
            out.print(f"  [bold red]{escape(alarm['name'])}[/] since {alarm['since'][:19]}  {escape(alarm['reason'])}")
