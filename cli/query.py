"""`query`: Athena SQL through the stack's workgroup, or through the local DuckDB stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from cli.target import Target

DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


class QueryError(RuntimeError):
    """The query could not be run; the message is one line."""


class Result(NamedTuple):
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def one_line(text: str) -> str:
    """A message folded onto one line."""
    return " ".join(text.split())


def named_remote(athena: Any, workgroup: str, name: str) -> tuple[str, str | None]:
    """The SQL and database of the workgroup's saved query `name`."""
    names: list[str] = []
    for page in athena.get_paginator("list_named_queries").paginate(WorkGroup=workgroup):
        for query_id in page.get("NamedQueryIds", []):
            query = athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
            if query["Name"] == name:
                return query["QueryString"], query.get("Database")
            names.append(query["Name"])
    raise QueryError(f"no saved query {name!r} in workgroup {workgroup}; it has: {', '.join(sorted(names)) or 'none'}")


def run_remote(athena: Any, workgroup: str, database: str, sql: str, wait: Callable[[float], None] = time.sleep) -> Result:
    """Start the query in the workgroup, wait for it, and page through its results."""
    try:
        started = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup, QueryExecutionContext={"Database": database})
        query_id = started["QueryExecutionId"]
        delay = 0.2
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            state = execution["Status"]["State"]
            if state in DONE:
                break
            wait(delay)
            delay = min(delay * 1.5, 2.0)
        if state != "SUCCEEDED":
            reason = execution["Status"].get("StateChangeReason") or execution["Status"].get("AthenaError", {}).get("ErrorMessage")
            raise QueryError(f"query {state.lower()}: {one_line(reason or 'no reason given')}")
        return _results(athena, query_id)
    except ClientError as exc:
        raise QueryError(one_line(exc.response.get("Error", {}).get("Message", str(exc)))) from None


def _results(athena: Any, query_id: str) -> Result:
    """Every page of a finished query's results; the header row Athena puts first is dropped."""
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        result = page["ResultSet"]
        if not columns:
            columns = [c["Name"] for c in result.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
        rows.extend(tuple(cell.get("VarCharValue") for cell in row.get("Data", [])) for row in result.get("Rows", []))
    if rows and columns and list(rows[0]) == columns:
        rows = rows[1:]
    return Result(columns, rows)


def run_local(target: Target, sql: str | None, named: str | None) -> Result:
    """Run SQL or a template named query with the DuckDB stand-in over the local stack's partitions."""
    from infra.local.athena import AthenaError, LocalAthena

    try:
        with LocalAthena(target.glue(), target.s3(), target.database, target.table) as athena:
            athena.defer_views()  # the template's views, as they exist in Athena once created (made when a query names them)
            result = athena.run_named(named) if named else athena.query(sql or "")
    except AthenaError as exc:
        raise QueryError(one_line(str(exc))) from None
    return Result(result.columns, result.rows)


def run_query(target: Target, sql: str | None, named: str | None, wait: Callable[[float], None] = time.sleep) -> Result:
    """A query against the target: local stand-in, or the stack's workgroup."""
    if target.local:
        return run_local(target, sql, named)
    if not target.workgroup:
        raise QueryError("the stack has no Athena workgroup output")
    athena = target.athena()
    database: str | None = target.database
    if named:
        sql, database = named_remote(athena, target.workgroup, named)
    return run_remote(athena, target.workgroup, database or target.database, sql or "", wait)
