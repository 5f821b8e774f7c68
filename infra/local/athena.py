"""A local stand-in for Athena: Athena (Trino) SQL run by DuckDB over the Glue table's registered partitions.

The curated objects of every registered partition are downloaded (boto3) into a temporary
directory laid out ``key=value/...`` like the partitions, and a DuckDB view named like the Glue
table, in a schema named like the Glue database, reads them as OpenCSVSerDe would: the columns
come from the Glue table in order and are matched by position, every value is a string (empty
stays empty, never NULL), ``"`` quotes and the table's escape character (OpenCSVSerDe's is a
backslash unless the table sets another) escapes a quote or itself, the header lines the table
skips are skipped, and only the partitions registered in Glue are visible. SQL is transpiled
with sqlglot (athena → duckdb).

    python -m infra.local.athena --endpoint http://127.0.0.1:PORT "SELECT year, month, count(*) FROM sales GROUP BY 1, 2"
    python -m infra.local.athena --endpoint http://127.0.0.1:PORT --named "Units by country per month"
    python -m infra.local.athena --list
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlparse

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from infra.template.load import Context, load_template, named_queries

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any


OPENCSV_ESCAPE = "\\"  # OpenCSVSerDe's effective escape character when the table sets none
_SHOW_PARTITIONS = re.compile(r"SHOW\s+PARTITIONS\s+\S+", re.IGNORECASE)  # answered from the registered partitions
_DDL = (exp.Create, exp.Drop, exp.Alter)  # DuckDB answers these with a row count


class AthenaError(RuntimeError):
    """A query could not be transpiled or run."""


class QueryResult(NamedTuple):
    """Column names and rows of the last statement (both empty for DDL)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def template_queries(database: str, table: str) -> dict[str, str]:
    """The template's named queries (Name → SQL) resolved for this database and table."""
    context = Context.for_template(load_template(), {"GlueDatabaseName": database, "GlueTableName": table})
    return named_queries(context)


def transpile(sql: str) -> list[tuple[str, bool]]:
    """Athena/Trino SQL as DuckDB statements, each with whether it returns rows (not DDL)."""
    try:
        parsed = [e for e in sqlglot.parse(sql, read="athena") if e is not None]
        return [(e.sql(dialect="duckdb"), not isinstance(e, _DDL)) for e in parsed]
    except SqlglotError as exc:
        raise AthenaError(f"cannot transpile the query: {exc}") from None


def _ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _duck_type(hive_type: str) -> str:
    """The DuckDB type of a Glue (Hive) column type."""
    lowered = hive_type.strip().lower().replace(" ", "")
    if lowered.startswith("map<") and lowered.endswith(">"):
        key, _, value = lowered[4:-1].partition(",")
        return f"MAP({_duck_type(key)}, {_duck_type(value)})"
    return "VARCHAR" if lowered.startswith(("string", "varchar", "char")) else lowered.upper()


def _split_s3(location: str) -> tuple[str, str]:
    """Bucket and key prefix (ending with '/') of an s3:// location."""
    parsed = urlparse(location)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise AthenaError(f"not an S3 location: {location!r}")
    prefix = parsed.path.lstrip("/")
    return parsed.netloc, prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _csv_source(pattern: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]], serde: dict[str, str], skip: int) -> str:
    """read_csv over the files as OpenCSVSerDe reads them: by position, strings never NULL, the table's quote and escape."""
    spec = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in columns)
    strings = ", ".join(_literal(name) for name, kind in columns if kind == "VARCHAR")
    quote = serde.get("quoteChar", '"')
    options = [
        f"columns = {{{spec}}}",
        "header = false",
        f"skip = {skip}",
        f"delim = {_literal(serde.get('separatorChar', ','))}",
        f"quote = {_literal(quote)}",
        f"escape = {_literal(serde.get('escapeChar', OPENCSV_ESCAPE))}",
        f"force_not_null = [{strings}]",
        "null_padding = true",
        "auto_detect = false",
        *_hive(keys),
    ]
    return f"read_csv({_literal(pattern)}, {', '.join(options)})"


def _json_source(pattern: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]]) -> str:
    """read_json over JSON Lines files as the JSON SerDe reads them: one object a line, columns by name."""
    spec = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in columns)
    options = [f"columns = {{{spec}}}", "format = 'newline_delimited'", *_hive(keys)]
    return f"read_json({_literal(pattern)}, {', '.join(options)})"


def _hive(keys: list[tuple[str, str]]) -> list[str]:
    """The hive-partitioning options for a table's partition keys."""
    if not keys:
        return ["hive_partitioning = false"]
    return ["hive_partitioning = true", "hive_types = {" + ", ".join(f"{_literal(name)}: {kind}" for name, kind in keys) + "}"]


class LocalAthena:
    """Athena SQL over the curated objects of one Glue table's registered partitions, in DuckDB."""

    def __init__(self, glue: GlueClient, s3: S3Client, database: str, table: str) -> None:
        self.glue, self.s3, self.database, self.table = glue, s3, database, table
        self._scratch = tempfile.TemporaryDirectory(prefix="local-athena-")
        self.data = Path(self._scratch.name) / "data"
        self.connection = duckdb.connect()
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(database)}")
        self.connection.execute(f"USE {_ident(database)}")
        self.partition_keys: list[str] = []
        self.partitions: list[list[str]] = []
        self.files = 0
        self.refresh()

    def refresh(self) -> None:
        """Download the registered partitions' objects of every table in the database again and (re)create their views."""
        shutil.rmtree(self.data, ignore_errors=True)
        pages = self.glue.get_paginator("get_tables").paginate(DatabaseName=self.database)
        others = sorted(t["Name"] for page in pages for t in page["TableList"] if t["Name"] != self.table)
        for name in [self.table, *others]:
            keys, partitions, files = self._load(name)
            if name == self.table:
                self.partition_keys, self.partitions, self.files = keys, partitions, files

    def _load(self, name: str) -> tuple[list[str], list[list[str]], int]:
        """One table's view over its downloaded partitions: partition keys, partition values, file count."""
        table = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        descriptor = table["StorageDescriptor"]
        columns = [(c["Name"], _duck_type(c.get("Type", "string"))) for c in descriptor.get("Columns", [])]
        keys = [(k["Name"], _duck_type(k.get("Type", "string"))) for k in table.get("PartitionKeys", [])]
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=self.database, TableName=name)
        registered = [(p["Values"], p["StorageDescriptor"]["Location"]) for page in pages for p in page["Partitions"]]
        if not keys:
            registered = [([], descriptor["Location"])]
        root = self.data / name
        jobs: list[tuple[str, str, Path]] = []
        for values, location in sorted(registered):
            if any("/" in v or v in ("", ".", "..") for v in values):
                raise AthenaError(f"unsupported partition values {values}")
            folder = root.joinpath(*(f"{key}={value}" for (key, _), value in zip(keys, values, strict=True)))
            folder.mkdir(parents=True, exist_ok=True)
            bucket, prefix = _split_s3(location)
            for key in self._objects(bucket, prefix):
                jobs.append((bucket, key, folder / key[len(prefix) :]))
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda job: self.s3.download_file(job[0], job[1], str(job[2])), jobs))
        serde = descriptor.get("SerdeInfo", {})
        pattern = str(root) + "/*" * (len(keys) + 1)
        skip = int(table.get("Parameters", {}).get("skip.header.line.count", "0"))
        if not jobs:
            source = ""
        elif "json" in serde.get("SerializationLibrary", "").lower():
            source = _json_source(pattern, columns, keys)
        else:
            source = _csv_source(pattern, columns, keys, serde.get("Parameters", {}), skip)
        self._create_view(name, columns, keys, source)
        return [k for k, _ in keys], [values for values, _ in sorted(registered) if keys], len(jobs)

    def _objects(self, bucket: str, prefix: str) -> list[str]:
        """The data files directly under a location (Athena skips names starting with _ or .)."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return [k for k in keys if not k[len(prefix) :].startswith(("_", ".")) and not k.endswith("/")]

    def _create_view(self, name: str, columns: list[tuple[str, str]], keys: list[tuple[str, str]], source: str) -> None:
        """The view over a table's downloaded files: Glue columns, then the partition keys (no rows without files)."""
        names = ", ".join(_ident(column) for column, _ in [*columns, *keys])
        if not source:
            source = "(SELECT " + ", ".join(f"CAST(NULL AS {kind}) AS {_ident(c)}" for c, kind in [*columns, *keys]) + " WHERE false)"
        view = f"{_ident(self.database)}.{_ident(name)}"
        # Names are quoted identifiers and paths quoted literals; nothing here comes from a query.
        self.connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {names} FROM {source}")  # noqa: S608

    def query(self, sql: str) -> QueryResult:
        """Run Athena SQL (one or more statements); the last statement's columns and rows."""
        if _SHOW_PARTITIONS.fullmatch(sql.strip().rstrip(";").strip()):
            rows = [("/".join(f"{k}={v}" for k, v in zip(self.partition_keys, p, strict=True)),) for p in self.partitions]
            return QueryResult(["partition"], rows)
        result = QueryResult([], [])
        for statement, returns_rows in transpile(sql):
            try:
                cursor = self.connection.execute(statement)
                description = cursor.description if returns_rows else None
                result = QueryResult([d[0] for d in description], cursor.fetchall()) if description else QueryResult([], [])
            except duckdb.Error as exc:
                raise AthenaError(f"{type(exc).__name__}: {exc}\nDuckDB SQL: {statement}") from None
        return result

    def named_queries(self) -> dict[str, str]:
        """The template's named queries for this database and table."""
        return template_queries(self.database, self.table)

    def create_views(self) -> list[str]:
        """Run the template's CREATE VIEW named queries (views persist in Athena); return their names."""
        views = {n: sql for n, sql in self.named_queries().items() if isinstance(sqlglot.parse_one(sql, read="athena"), exp.Create)}
        for sql in views.values():
            self.query(sql)
        return list(views)

    def run_named(self, name: str) -> QueryResult:
        """Run one of the template's named queries by its Name."""
        queries = self.named_queries()
        if name not in queries:
            raise AthenaError(f"no named query {name!r}; the template has {sorted(queries)}")
        return self.query(queries[name])

    def close(self) -> None:
        """Close DuckDB and remove the downloaded files."""
        self.connection.close()
        self._scratch.cleanup()

    def __enter__(self) -> LocalAthena:
        """Use in a with block."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close on leaving the with block."""
        self.close()


def _cell(value: Any) -> str:
    """A value as shown in a table: NULL, amounts without trailing zeros past the cents."""
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        text = f"{value:f}"
        if "." in text:
            whole, fraction = text.split(".")
            fraction = fraction.rstrip("0").ljust(2, "0")
            text = f"{whole}.{fraction}"
        return text
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def _width(text: str) -> int:
    """Terminal columns a text takes (wide East Asian characters and emoji take two)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """Cut a text to at most `width` columns, marking the cut."""
    if _width(text) <= width:
        return text
    while _width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_rows: int | None = None, max_width: int = 40) -> str:
    """A plain-text table; numbers right-aligned, long values cut, rows not shown counted."""
    if not columns:
        return "(no result set)"
    shown = list(rows if max_rows is None else rows[:max_rows])
    cells = [[_fit(_cell(v), max_width) for v in row] for row in shown]
    numeric = [bool(shown) and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in shown) for i in range(len(columns))]
    widths = [max([_width(name), *(_width(row[i]) for row in cells)]) for i, name in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        gaps = [" " * (w - _width(v)) for v, w in zip(values, widths, strict=True)]
        return "  ".join(g + v if num else v + g for v, g, num in zip(values, gaps, numeric, strict=True)).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths), *(line(row) for row in cells)]
    hidden = len(rows) - len(shown)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{f', {hidden} not shown' if hidden else ''})")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run one query, or a named query, against the local stack and print it as a table."""
    from infra.local.stack import DATABASE, TABLE, use_endpoint

    parser = argparse.ArgumentParser(prog="python -m infra.local.athena", description=__doc__.splitlines()[0])
    parser.add_argument("sql", nargs="?", help="Athena SQL to run")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="the local AWS (moto server) URL")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--table", default=TABLE)
    parser.add_argument("--named", metavar="NAME", help="run the template's named query NAME")
    parser.add_argument("--list", action="store_true", help="list the template's named queries")
    parser.add_argument("--max-rows", type=int, default=100)
    args = parser.parse_args(argv)
    if args.list:
        for name, sql in template_queries(args.database, args.table).items():
            print(f"-- {name}\n{sql.strip()}\n")
        return 0
    if bool(args.sql) == bool(args.named):
        parser.error("give either SQL or --named NAME (or --list)")
    if not args.endpoint:
        parser.error("--endpoint (or AWS_ENDPOINT_URL) is required")
    use_endpoint(args.endpoint)
    import boto3

    try:
        with LocalAthena(boto3.client("glue"), boto3.client("s3"), args.database, args.table) as athena:
            athena.create_views()  # as they would exist in Athena once created
            result = athena.run_named(args.named) if args.named else athena.query(args.sql)
    except AthenaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_table(result.columns, result.rows, max_rows=args.max_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
