"""Views stored in Glue as Athena stores them (VIRTUAL_VIEW, a base64 Presto view definition), as the stand-in's CREATE VIEW."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from infra.local.athena_source import ident

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

_PRESTO = re.compile(r"/\* Presto View: (\S+) \*/")


def presto_sql(table: Mapping[str, Any]) -> str | None:
    """The SELECT (Athena SQL) of a Glue table that is a view; None for any other table."""
    if table.get("TableType") != "VIRTUAL_VIEW":
        return None
    match = _PRESTO.fullmatch(str(table.get("ViewOriginalText", "")).strip())
    if match is None:
        raise ValueError(f"Glue view {table.get('Name')} holds no Presto view definition")
    return str(json.loads(base64.b64decode(match[1]))["originalSql"])


def glue_view(glue: GlueClient, database: str, name: str) -> str | None:
    """CREATE OR REPLACE VIEW (Athena SQL) of the Glue view `name`; None when there is no such table or it is not a view."""
    try:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "EntityNotFoundException":
            return None
        raise
    sql = presto_sql(table)
    return None if sql is None else f"CREATE OR REPLACE VIEW {ident(database)}.{ident(name)} AS {sql}"
