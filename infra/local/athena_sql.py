"""The local Athena stand-in's SQL side: errors, results, parsing and transpiling (sqlglot), the template's named queries and views."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from infra.template.load import Context, load_template, named_queries

DDL = (exp.Create, exp.Drop, exp.Alter)  # DuckDB answers these with a row count
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}
SHOW_PARTITIONS = re.compile(r"SHOW\s+PARTITIONS\s+(\S+)", re.IGNORECASE)  # answered from the registered partitions


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


def template_views(database: str, table: str) -> dict[str, tuple[str, str]]:
    """The template's CREATE VIEW named queries: Name → (view name in lower case, SQL)."""
    views: dict[str, tuple[str, str]] = {}
    for name, sql in template_queries(database, table).items():
        parsed = sqlglot.parse_one(sql, read="athena")
        target = parsed.find(exp.Table) if isinstance(parsed, exp.Create) else None
        if target is not None:
            views[name] = (target.name.lower(), sql)
    return views


def parse(sql: str) -> list[exp.Expr]:
    """Athena/Trino SQL as parsed statements."""
    try:
        return [e for e in sqlglot.parse(sql, read="athena") if e is not None]
    except SqlglotError as exc:
        raise AthenaError(f"cannot transpile the query: {exc}") from None


def transpile(sql: str) -> list[tuple[str, bool]]:
    """Athena/Trino SQL as DuckDB statements, each with whether it returns rows (not DDL)."""
    return [(e.sql(dialect="duckdb"), not isinstance(e, DDL)) for e in parse(sql)]


def tables_named(statement: exp.Expr) -> list[tuple[str, str]]:
    """(database or '', name) of every table a statement names, CTEs left out."""
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    return [(t.db, t.name) for t in statement.find_all(exp.Table) if t.name and (t.db or t.name not in ctes)]


def table_of(text: str) -> tuple[str, str]:
    """(database or '', name) of a table name as written, e.g. in SHOW PARTITIONS "db"."table"."""
    try:
        target = exp.to_table(text, dialect="athena")
    except SqlglotError as exc:
        raise AthenaError(f"cannot parse the table name {text!r}: {exc}") from None
    return target.db, target.name


def in_database(database: str, name: str, ours: str) -> bool:
    """Whether a table a query names is in our Glue database (not a system schema); another database is one clear error."""
    if database.lower() in SYSTEM_SCHEMAS:
        return False
    if database and database != ours:
        raise AthenaError(
            f"unknown database {database!r}: the local stack's Glue database is {ours!r}"
            f' (write "{ours}"."{name}", or leave the database out)'
        )
    return True
