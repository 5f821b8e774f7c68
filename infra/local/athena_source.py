"""The DuckDB view over a local table copy: read_csv as OpenCSVSerDe reads, read_json as the JSON SerDe reads.

CSV tables (OpenCSVSerDe): the columns come from the Glue table in order and are matched by
position, every value is a string (empty stays empty, never NULL), ``"`` quotes and the table's
escape character (OpenCSVSerDe's is a backslash unless the table sets another) escapes a quote or
itself, and the header lines the table skips are skipped. JSON tables (a SerDe whose library
names JSON, e.g. Hive's JSON SerDe): one object a line, columns matched by name,
``map<string,string>`` as a DuckDB MAP, ``array<string>`` as a DuckDB list. Either way the partition keys come from the
``key=value/`` folders, and a table without files is an empty view of the right columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.local.athena_sync import TableCopy

OPENCSV_ESCAPE = "\\"  # OpenCSVSerDe's effective escape character when the table sets none


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def duck_type(hive_type: str) -> str:
    """The DuckDB type of a Glue (Hive) column type; map<k,v> becomes MAP(k, v), array<t> a list t[]."""
    lowered = hive_type.strip().lower().replace(" ", "")
    if lowered.startswith("map<") and lowered.endswith(">"):
        key, _, value = lowered[4:-1].partition(",")
        return f"MAP({duck_type(key)}, {duck_type(value)})"
    if lowered.startswith("array<") and lowered.endswith(">"):
        return f"{duck_type(lowered[6:-1])}[]"
    return "VARCHAR" if lowered.startswith(("string", "varchar", "char")) else lowered.upper()


def view_sql(database: str, copy: TableCopy) -> str:
    """CREATE OR REPLACE VIEW database.table over the copy's files: Glue columns, then the partition keys."""
    columns, keys = copy.columns, copy.keys
    names = ", ".join(ident(name) for name, _ in [*columns, *keys])
    pattern = str(copy.data) + "/*" * (len(keys) + 1)
    if copy.files == 0:
        source = "(SELECT " + ", ".join(f"CAST(NULL AS {kind}) AS {ident(name)}" for name, kind in [*columns, *keys]) + " WHERE false)"
    elif "json" in copy.library.lower():
        source = json_source(pattern, columns, keys)
    else:
        source = csv_source(pattern, columns, keys, copy.serde, copy.skip)
    # Names are quoted identifiers and paths quoted literals; nothing here comes from a query.
    return f"CREATE OR REPLACE VIEW {ident(database)}.{ident(copy.table)} AS SELECT {names} FROM {source}"  # noqa: S608


def csv_source(pattern: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]], serde: dict[str, str], skip: int) -> str:
    """read_csv over the files as OpenCSVSerDe reads them: by position, strings never NULL, the table's quote and escape."""
    spec = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in columns)
    strings = ", ".join(literal(name) for name, kind in columns if kind == "VARCHAR")
    quote = serde.get("quoteChar", '"')
    options = [
        f"columns = {{{spec}}}",
        "header = false",
        f"skip = {skip}",
        f"delim = {literal(serde.get('separatorChar', ','))}",
        f"quote = {literal(quote)}",
        f"escape = {literal(serde.get('escapeChar', OPENCSV_ESCAPE))}",
        f"force_not_null = [{strings}]",
        "null_padding = true",
        "auto_detect = false",
        *hive(keys),
    ]
    return f"read_csv({literal(pattern)}, {', '.join(options)})"


def json_source(pattern: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]]) -> str:
    """read_json over JSON Lines files as the JSON SerDe reads them: one object a line, columns by name."""
    spec = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in columns)
    options = [f"columns = {{{spec}}}", "format = 'newline_delimited'", *hive(keys)]
    return f"read_json({literal(pattern)}, {', '.join(options)})"


def hive(keys: list[tuple[str, str]]) -> list[str]:
    """The hive-partitioning options for a table's partition keys."""
    if not keys:
        return ["hive_partitioning = false"]
    return ["hive_partitioning = true", "hive_types = {" + ", ".join(f"{literal(name)}: {kind}" for name, kind in keys) + "}"]
