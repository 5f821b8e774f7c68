"""The audit's checks on each report type's Glue table: it exists and reads the curated files as they are written."""

from __future__ import annotations

from dataclasses import replace

from archiver.core.report_types import JSON_COLUMNS, JSON_SERDE
from archiver.formats.sales_csv import CuratedDialect
from cli.checks import Problem
from cli.fixes import TABLE, Fixes
from cli.inventory import ReportArchive

SERDE_KEYS = {"separatorChar": CuratedDialect.delimiter, "quoteChar": CuratedDialect.quotechar, "escapeChar": CuratedDialect.escapechar}
OPENCSV_DEFAULTS = {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}  # what OpenCSVSerDe uses when unset


def check_table(part: ReportArchive) -> list[Problem]:
    """The type's table exists; sales: its SerDe reads the curated dialect and skips the header; others: a JSON SerDe."""
    return [replace(problem, action=TABLE) for problem in _table_problems(part)]


def _table_problems(part: ReportArchive) -> list[Problem]:
    """The table's problems, before saying what to do about them."""
    name, view = part.report.name, part.table
    if view.table is None:
        return [Problem("table", view.error or f"Glue table {view.name} cannot be read", report=name)]
    serde = view.table.get("StorageDescriptor", {}).get("SerdeInfo", {})
    parameters = serde.get("Parameters", {})
    if part.report.curated == "csv":
        found = [
            Problem("table", f"table {view.name} SerDe {key} is {parameters.get(key)!r}, the curated files use {wanted!r}", report=name)
            for key, wanted in SERDE_KEYS.items()
            if parameters.get(key, OPENCSV_DEFAULTS[key]) != wanted
        ]
        if view.table.get("Parameters", {}).get("skip.header.line.count") != "1":
            found.append(Problem("table", f"table {view.name} does not skip the curated files' header line", report=name))
        return found
    library = str(serde.get("SerializationLibrary", ""))
    if not library.endswith("JsonSerDe"):
        return [Problem("table", f"table {view.name} SerDe is {library!r}, not a JSON SerDe; its files are JSON Lines", report=name)]
    found = []
    if library != JSON_SERDE:  # OpenX: non-deterministic per AWS, NULL rows for a malformed line, keys lower-cased by default
        found.append(Problem("table", f"table {view.name} SerDe is {library!r}, not Hive's {JSON_SERDE}", report=name))
    if view.columns != list(JSON_COLUMNS):
        found.append(Problem("table", f"table {view.name} columns {view.columns} are not {list(JSON_COLUMNS)}", report=name))
    return found


def check_odd_partitions(part: ReportArchive, fixes: Fixes) -> list[Problem]:
    """Partitions whose values name no period as the function writes them (`month=3`, `month=13`): a person removes them."""
    view = part.table
    return [
        Problem(
            "partition",
            f"partition {'/'.join(values)} in {view.name} names no period as the archive writes it (at {location})",
            report=part.report.name,
            action=fixes.delete_partition(view.name, values),
        )
        for values, location in sorted(view.odd.items())
    ]
