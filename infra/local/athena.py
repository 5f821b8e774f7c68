"""A local stand-in for Athena: Athena (Trino) SQL run by DuckDB over the registered partitions of a Glue database's tables.

Every table of the Glue database can be queried (the sales CSV table and the JSON Lines tables
of the other report types), each loaded lazily: a query that names no table (``SELECT 1``)
touches neither Glue nor S3; the first query that names a table copies the data files of its
registered partitions (one listing of the table's location) into a temporary directory laid out
``key=value/...`` like the partitions, and later ``refresh()`` calls download only new or changed
objects. A DuckDB view named like each Glue table, in a schema named like the Glue database,
reads its files as the table's SerDe would (see infra/local/athena_source.py); only the
partitions registered in Glue are visible. A view stored in Glue as Athena stores one (the archive's
typed views, infra/local/athena_views.py) becomes a DuckDB view of its definition when a query names it.
SQL is transpiled with sqlglot (athena → duckdb).

    python -m infra.local.athena --endpoint http://127.0.0.1:PORT "SELECT year, month, count(*) FROM sales GROUP BY 1, 2"
    python -m infra.local.athena --endpoint http://127.0.0.1:PORT --named "Units by country per month"
    python -m infra.local.athena --list
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from infra.local import athena_sql as sqltext
from infra.local.athena_source import ident, view_sql
from infra.local.athena_sql import AthenaError, QueryResult, template_queries, transpile
from infra.local.athena_sync import CatalogMissing, TableCopy, glue_tables
from infra.local.athena_views import glue_view
from infra.local.tables import _width, format_table

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
else:
    GlueClient = S3Client = Any

__all__ = ["AthenaError", "LocalAthena", "QueryResult", "_width", "format_table", "main", "template_queries", "transpile"]


class LocalAthena:
    """Athena SQL over the curated objects of a Glue database's tables, in DuckDB; `table` is the default (sales) table."""

    def __init__(self, glue: GlueClient, s3: S3Client, database: str, table: str) -> None:
        self.glue, self.s3, self.database, self.table = glue, s3, database, table
        self._scratch = tempfile.TemporaryDirectory(prefix="local-athena-")
        self.copies: dict[str, TableCopy] = {}  # Glue table → its local copy, made when a query first names it
        self.catalog: set[str] | None = None  # the database's Glue tables, listed when a query first names an unloaded name
        self.connection = duckdb.connect()
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(database)}")
        self.connection.execute(f"USE {ident(database)}")
        self.deferred_views: dict[str, str] = {}  # view name → the template's CREATE VIEW, run when a query names it
        self._defer_template_views = False
        self.glue_views: set[str] = set()  # views stored in Glue (the archive's typed views), created when a query names them

    @property
    def partitions(self) -> list[list[str]]:
        """The default table's registered partitions' values, as of its last load."""
        return self.copies[self.table].partitions if self.table in self.copies else []

    @property
    def files(self) -> int:
        """How many curated objects of the default table the stand-in reads."""
        return self.copies[self.table].files if self.table in self.copies else 0

    def refresh(self) -> None:
        """List the database's tables again; bring the default table and every table loaded so far up to date."""
        self.catalog = None
        for name in sorted({self.table, *self.copies}):
            self._load(name)
        for name in sorted(self.glue_views):  # a view's definition may have changed since
            self.glue_views.discard(name)
            self._glue_view(name)

    def _glue_view(self, name: str) -> bool:
        """Create the DuckDB view of a view stored in Glue; False when `name` is not one."""
        definition = glue_view(self.glue, self.database, name)
        if definition is not None:
            self.glue_views.add(name)
            self.query(definition)  # loads the tables it reads
        return definition is not None

    def _load(self, name: str) -> TableCopy:
        """Read one table and its partitions from Glue, download its new or changed objects, (re)create its view."""
        copy = self.copies.get(name) or TableCopy(self.glue, self.s3, self.database, name, Path(self._scratch.name) / "data" / name)
        try:
            copy.sync()
        except (CatalogMissing, ValueError) as exc:
            raise AthenaError(str(exc)) from None
        self.copies[name] = copy
        self.connection.execute(view_sql(self.database, copy))
        return copy

    def _glue_tables(self) -> set[str]:
        """The database's Glue tables (listed once per refresh), or one clear error when the database does not exist."""
        if self.catalog is None:
            try:
                self.catalog = glue_tables(self.glue, self.database)
            except CatalogMissing as exc:
                raise AthenaError(str(exc)) from None
        return self.catalog

    def _prepare(self, statements: list[exp.Expr]) -> None:
        """Check the databases the statements name; load the tables and create the deferred views they name."""
        for statement in statements:
            for database, name in sqltext.tables_named(statement):
                if not sqltext.in_database(database, name, self.database):
                    continue
                if self._defer_template_views:
                    self._defer_template_views = False
                    self.deferred_views.update(sqltext.template_views(self.database, self.table).values())
                name = name.lower()  # Glue names are lower case; DuckDB's identifiers ignore case
                if name in self.deferred_views:
                    self.query(self.deferred_views.pop(name))
                elif name in self.copies or name in self.glue_views or name not in self._glue_tables():
                    continue
                elif not self._glue_view(name):
                    self._load(name)

    def _show_partitions(self, named: str) -> QueryResult:
        """SHOW PARTITIONS of one table: its registered partitions as key=value/..."""
        database, name = sqltext.table_of(named)
        sqltext.in_database(database, name, self.database)
        name = name.lower()
        copy = self.copies.get(name) or self._load(name)
        keys = [key for key, _ in copy.keys]
        return QueryResult(["partition"], [("/".join(f"{k}={v}" for k, v in zip(keys, p, strict=True)),) for p in copy.partitions])

    def query(self, sql: str) -> QueryResult:
        """Run Athena SQL (one or more statements); the last statement's columns and rows."""
        show = sqltext.SHOW_PARTITIONS.fullmatch(sql.strip().rstrip(";").strip())
        if show:
            return self._show_partitions(show.group(1))
        statements = sqltext.parse(sql)
        self._prepare(statements)
        result = QueryResult([], [])
        for parsed in statements:
            statement = parsed.sql(dialect="duckdb")
            try:
                cursor = self.connection.execute(statement)
                description = None if isinstance(parsed, sqltext.DDL) else cursor.description
                result = QueryResult([d[0] for d in description], cursor.fetchall()) if description else QueryResult([], [])
            except duckdb.Error as exc:
                raise AthenaError(f"{type(exc).__name__}: {exc}\nDuckDB SQL: {statement}") from None
        return result

    def named_queries(self) -> dict[str, str]:
        """The template's named queries for this database and table."""
        return template_queries(self.database, self.table)

    def create_views(self) -> list[str]:
        """Run the template's CREATE VIEW named queries (views persist in Athena); return their names."""
        views = sqltext.template_views(self.database, self.table)
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
