"""The audit's checks on each report type's Glue table: it exists and reads the curated files as they are written."""

from __future__ import annotations

from archiver.convert import CuratedDialect
from archiver.reports import JSON_COLUMNS
from cli.archive import ReportArchive
from cli.checks import Problem

SERDE_KEYS = {"separatorChar": CuratedDialect.delimiter, "quoteChar": CuratedDialect.quotechar, "escapeChar": CuratedDialect.escapechar}
OPENCSV_DEFAULTS = {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}  # what OpenCSVSerDe uses when unset
OPENX = "org.openx.data.jsonserde.JsonSerDe"  # the template's JSON SerDe; case.insensitive defaults to true there


def check_table(part: ReportArchive) -> list[Problem]:
    """The type's table exists; sales: its SerDe reads the curated dialect and skips the header; others: a JSON SerDe."""
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
    if library == OPENX and parameters.get("case.insensitive") != "false":
        found.append(Problem("table", f"table {view.name} SerDe lower-cases the served header names (case.insensitive)", report=name))
    if view.columns != list(JSON_COLUMNS):
        found.append(Problem("table", f"table {view.name} columns {view.columns} are not {list(JSON_COLUMNS)}", report=name))
    return found
