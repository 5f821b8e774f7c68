"""A local stand-in for Athena: Athena (Trino) SQL run by DuckDB over the Glue table's registered partitions.

Data is loaded lazily: a query that names no table (``SELECT 1``) touches neither Glue nor S3;
the first query that names a table copies the curated objects of every registered partition
into a temporary directory laid out ``key=value/...`` like the partitions, and later
``refresh()`` calls download only new or changed objects. A DuckDB view named like the Glue
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

import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from infra.local.athena_sync import CatalogMissing, TableCopy
from infra.local.tables import _width, format_table
from infra.template.load import Context, load_template, named_queries

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any

__all__ = ["AthenaError", "LocalAthena", "QueryResult", "_width", "format_table", "main", "template_queries", "transpile"]

OPENCSV_ESCAPE = "\\"  # OpenCSVSerDe's effective escape character when the table sets none
_SHOW_PARTITIONS = re.compile(r"SHOW\s+PARTITIONS\s+\S+", re.IGNORECASE)  # answered from the registered partitions
_DDL = (exp.Create, exp.Drop, exp.Alter)  # DuckDB answers these with a row count
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}


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


def _parse(sql: str) -> list[exp.Expr]:
    """Athena/Trino SQL as parsed statements."""
    try:
        return [e for e in sqlglot.parse(sql, read="athena") if e is not None]
    except SqlglotError as exc:
        raise AthenaError(f"cannot transpile the query: {exc}") from None


def transpile(sql: str) -> list[tuple[str, bool]]:
    """Athena/Trino SQL as DuckDB statements, each with whether it returns rows (not DDL)."""
    return [(e.sql(dialect="duckdb"), not isinstance(e, _DDL)) for e in _parse(sql)]


def _tables(statement: exp.Expr) -> list[tuple[str, str]]:
    """(database or '', name) of every table a statement names, CTEs left out."""
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    return [(t.db, t.name) for t in statement.find_all(exp.Table) if t.name and (t.db or t.name not in ctes)]


def _ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class LocalAthena:
    """Athena SQL over the curated objects of one Glue table's registered partitions, in DuckDB."""

    def __init__(self, glue: GlueClient, s3: S3Client, database: str, table: str) -> None:
        self.database, self.table = database, table
        self._scratch = tempfile.TemporaryDirectory(prefix="local-athena-")
        self.copy = TableCopy(glue, s3, database, table, Path(self._scratch.name) / "data")
        self.connection = duckdb.connect()
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(database)}")
        self.connection.execute(f"USE {_ident(database)}")
        self.loaded = False
        self.deferred_views: dict[str, str] = {}  # view name → the template's CREATE VIEW, run when a query names it
        self._defer_template_views = False

    @property
    def partitions(self) -> list[list[str]]:
        """The registered partitions' values, as of the last refresh."""
        return self.copy.partitions

    @property
    def files(self) -> int:
        """How many curated objects the stand-in reads."""
        return self.copy.files

    def refresh(self) -> None:
        """Read the table and its partitions from Glue again, download new or changed objects, (re)create the view."""
        try:
            self.copy.sync()
        except (CatalogMissing, ValueError) as exc:
            raise AthenaError(str(exc)) from None
        self._create_view()
        self.loaded = True

    def _create_view(self) -> None:
        """The view over the downloaded files: Glue columns by position, then the partition keys."""
        columns, keys, serde = self.copy.columns, self.copy.keys, self.copy.serde
        quote = serde.get("quoteChar", '"')
        names = ", ".join(_ident(name) for name, _ in [*columns, *keys])
        if self.files == 0:
            nulls = ", ".join(f"CAST(NULL AS {kind}) AS {_ident(name)}" for name, kind in [*columns, *keys])
            source = f"(SELECT {nulls} WHERE false)"
        else:
            pattern = str(self.copy.data) + "/*" * (len(keys) + 1)
            spec = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in columns)
            strings = ", ".join(_literal(name) for name, kind in columns if kind == "VARCHAR")
            hive = ", ".join(f"{_literal(name)}: {kind}" for name, kind in keys)
            options = [
                f"columns = {{{spec}}}",
                "header = false",
                f"skip = {self.copy.skip}",
                f"delim = {_literal(serde.get('separatorChar', ','))}",
                f"quote = {_literal(quote)}",
                f"escape = {_literal(serde.get('escapeChar', OPENCSV_ESCAPE))}",
                f"force_not_null = [{strings}]",
                "null_padding = true",
                "auto_detect = false",
                f"hive_partitioning = {'true' if keys else 'false'}",
            ]
            if keys:
                options.append(f"hive_types = {{{hive}}}")
            source = f"read_csv({_literal(pattern)}, {', '.join(options)})"
        view = f"{_ident(self.database)}.{_ident(self.table)}"
        # Names are quoted identifiers and paths quoted literals; nothing here comes from a query.
        self.connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {names} FROM {source}")  # noqa: S608

    def _prepare(self, statements: list[exp.Expr]) -> None:
        """Check the databases the statements name; load the table and create deferred views they need."""
        for statement in statements:
            for database, name in _tables(statement):
                if database and database != self.database and database.lower() not in _SYSTEM_SCHEMAS:
                    raise AthenaError(
                        f"unknown database {database!r}: the local stack's Glue database is {self.database!r}"
                        f' (write "{self.database}"."{name}", or leave the database out)'
                    )
                if database.lower() in _SYSTEM_SCHEMAS:
                    continue
                if not self.loaded:
                    self.refresh()
                if self._defer_template_views:
                    self._defer_template_views = False
                    self.deferred_views.update(view for view in self._views().values() if view[0] not in self.deferred_views)
                if name in self.deferred_views:
                    self.query(self.deferred_views.pop(name))

    def query(self, sql: str) -> QueryResult:
        """Run Athena SQL (one or more statements); the last statement's columns and rows."""
        if _SHOW_PARTITIONS.fullmatch(sql.strip().rstrip(";").strip()):
            if not self.loaded:
                self.refresh()
            keys = [name for name, _ in self.copy.keys]
            return QueryResult(["partition"], [("/".join(f"{k}={v}" for k, v in zip(keys, p, strict=True)),) for p in self.partitions])
        statements = _parse(sql)
        self._prepare(statements)
        result = QueryResult([], [])
        for parsed in statements:
            statement = parsed.sql(dialect="duckdb")
            try:
                cursor = self.connection.execute(statement)
                description = None if isinstance(parsed, _DDL) else cursor.description
                result = QueryResult([d[0] for d in description], cursor.fetchall()) if description else QueryResult([], [])
            except duckdb.Error as exc:
                raise AthenaError(f"{type(exc).__name__}: {exc}\nDuckDB SQL: {statement}") from None
        return result

    def named_queries(self) -> dict[str, str]:
        """The template's named queries for this database and table."""
        return template_queries(self.database, self.table)

    def _views(self) -> dict[str, tuple[str, str]]:
        """The template's CREATE VIEW named queries: Name → (view name, SQL)."""
        views: dict[str, tuple[str, str]] = {}
        for name, sql in self.named_queries().items():
            parsed = sqlglot.parse_one(sql, read="athena")
            target = parsed.find(exp.Table) if isinstance(parsed, exp.Create) else None
            if target is not None:
                views[name] = (target.name, sql)
        return views

    def create_views(self) -> list[str]:
        """Run the template's CREATE VIEW named queries (views persist in Athena); return their names."""
        views = self._views()
        for _, sql in views.values():
            self.query(sql)
        return list(views)

    def defer_views(self) -> None:
        """Create the template's views only when a query names them (a query that names no table reads no template, Glue or S3)."""
        self._defer_template_views = True

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


def main(argv: list[str] | None = None) -> int:
    """The command line (infra/local/athena_cli.py)."""
    from infra.local.athena_cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
