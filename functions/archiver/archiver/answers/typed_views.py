"""The typed Athena views of a schema-free report type, one per section, stored in Glue as Athena stores a view."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from archiver.answers.typed_columns import RESERVED, Sections, unique_names
from archiver.answers.value_types import BIGINT, VARCHAR, hive_type, sql_type, sql_value
from archiver.core.report_types import ReportType

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

DEFINITION = "appstore_archive_definition"  # a view's Glue parameter: the digest of its definition, compared each run


@dataclass(frozen=True)
class View:
    """One typed view: its name, its SELECT (Athena SQL) and its columns with their kinds."""

    name: str
    sql: str
    columns: tuple[tuple[str, str], ...]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_name(table: str, section: str | None, names: dict[str, str]) -> str:
    """`<table>_typed` for rows without a section, `<table>_typed_<section>` for a titled one."""
    return f"{table}_typed" if section is None else f"{table}_typed_{names[section]}"


def views(report: ReportType, database: str, table: str, sections: Sections) -> list[View]:
    """A view per section: the partition keys, `line`, then one column per key typed as its kind."""
    titled = [s for s in sections if s is not None]
    names = dict(zip(titled, unique_names(titled, "section"), strict=True))
    found: list[View] = []
    for section, columns in sections.items():
        keys = list(columns)
        column_names = unique_names(keys, "column", RESERVED)
        selected = [*report.partition_keys, "line"]
        values = [sql_value(columns[k], f"element_at(fields, {_literal(k)})") for k in keys]
        selected += [f'{value} AS "{n}"' for value, n in zip(values, column_names, strict=True)]
        where = "section IS NULL" if section is None else f"section = {_literal(section)}"
        sql = f'SELECT {", ".join(selected)} FROM "{database}"."{table}" WHERE {where}'  # noqa: S608 (names and literals quoted)
        kinds = [*((k, VARCHAR) for k in report.partition_keys), ("line", BIGINT)]
        kinds += [(n, columns[k]) for k, n in zip(keys, column_names, strict=True)]
        found.append(View(view_name(table, section, names), sql, tuple(kinds)))
    return found


def table_input(view: View, database: str) -> dict[str, Any]:
    """The Glue table of a view as Athena's CREATE VIEW stores it: a Presto view definition, base64, and its columns."""
    presto = {
        "originalSql": view.sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": name, "type": sql_type(kind)} for name, kind in view.columns],
    }
    text = "/* Presto View: " + base64.b64encode(json.dumps(presto).encode()).decode() + " */"
    return {
        "Name": view.name,
        "Description": "Typed view kept by the archive function (README: Typed views).",
        "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View", DEFINITION: hashlib.sha256(text.encode()).hexdigest()[:16]},
        "ViewOriginalText": text,
        "ViewExpandedText": "/* Presto View */",
        "PartitionKeys": [],
        "StorageDescriptor": {"Columns": [{"Name": name, "Type": hive_type(kind)} for name, kind in view.columns], "SerdeInfo": {}},
    }


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def ensure_view(glue: GlueClient, database: str, view: View) -> str:
    """Create the view's Glue table, or update it when its definition differs: 'created', 'updated' or 'unchanged'."""
    wanted = table_input(view, database)
    try:
        current = glue.get_table(DatabaseName=database, Name=view.name)["Table"]
    except ClientError as exc:
        if _code(exc) != "EntityNotFoundException":
            raise
        try:
            glue.create_table(DatabaseName=database, TableInput=wanted)  # type: ignore[arg-type]
            return "created"
        except ClientError as race:
            if _code(race) != "AlreadyExistsException":
                raise
            current = glue.get_table(DatabaseName=database, Name=view.name)["Table"]
    if current.get("Parameters", {}).get(DEFINITION) == wanted["Parameters"][DEFINITION]:
        return "unchanged"
    glue.update_table(DatabaseName=database, TableInput=wanted)  # type: ignore[arg-type]
    return "updated"
