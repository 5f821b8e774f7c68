"""Typed views: the typing rules, the view SQL as Athena and the local DuckDB stand-in read it, and the end-of-run upkeep."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from botocore.exceptions import ClientError

from archiver.answers.typed_columns import combine, from_json, summarise, to_json, unique_names
from archiver.answers.typed_upkeep import TypedViewsError, keep_typed_views, summaries
from archiver.answers.typed_views import table_input, views
from archiver.answers.value_types import EMPTY, RULES, kind_of, merge, sql_value
from archiver.core.report_types import BY_NAME
from archiver.run.startup import Clients
from archiver.storage.store import ArchiveStore
from infra.local.athena_views import presto_sql
from tests.unit.conftest import BUCKET, DATABASE, TABLE, keys

EARNINGS, YEARLY = BY_NAME["earnings"], BY_NAME["earnings_yearly"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("3,121", "bigint"),
        ("(12)", "bigint"),
        ("-7", "bigint"),
        ("0", "bigint"),
        ("(4.18)", "decimal:2"),
        ("1,234.5", "decimal:1"),
        ("0.92", "decimal:2"),
        ("  ", "empty"),
        ("007", "varchar"),  # an identifier, not a number
        ("12,34", "varchar"),
        ("(-4)", "varchar"),
        ("(4", "varchar"),
        ("1e5", "varchar"),
        ("$1.00", "varchar"),
        ("1234567890123456789", "varchar"),  # past bigint
        ("2024-03-05", "date:iso"),
        ("3/28/2024", "date:mdy"),
        ("2/30/2024", "varchar"),  # not a calendar day
        ("28/3/2024", "varchar"),  # day first: not the M/D/YYYY form
        ("2024-03", "varchar"),
        ("Issued", "varchar"),
        (" 3,121 ", "bigint"),  # spaces are padding for every engine
        ("\u00a05", "varchar"),  # a no-break space is not: the engines' trim functions disagree on it
        ("5\t", "varchar"),
        ("\u0663", "varchar"),  # ARABIC-INDIC DIGIT THREE: a digit to Python, not to a cast
        ("\uff11\uff12", "varchar"),  # fullwidth digits
        ("2024-03-0\u0665", "varchar"),
    ],
)
def test_kind_of_a_value(value: str, kind: str) -> None:
    assert kind_of(value) == kind


def test_kinds_merge_to_the_narrowest_all_values_parse_as() -> None:
    assert merge("bigint", "decimal:2") == merge("decimal:2", "bigint") == "decimal:2"
    assert merge("decimal:1", "decimal:3") == "decimal:3"
    assert merge("empty", "date:mdy") == merge("date:mdy", "empty") == "date:mdy"
    assert merge("date:iso", "date:mdy") == merge("bigint", "date:iso") == merge("bigint", "varchar") == "varchar"
    assert merge("empty", "empty") == "empty"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("bigint", "3,121", 3121),
        ("bigint", "(12)", -12),  # parentheses: negative, for integers too
        ("bigint", "-1,000", -1000),
        ("decimal:2", "(4.18)", Decimal("-4.18")),
        ("decimal:2", "1,234.5", Decimal("1234.50")),
        ("decimal:2", "12", Decimal("12.00")),
        ("decimal:2", "n/a", None),  # a value archived after the decision reads NULL, never fails the query
        ("decimal:2", "", None),
        ("date:iso", "2024-03-05", date(2024, 3, 5)),
        ("date:mdy", "3/28/2024", date(2024, 3, 28)),
        ("date:mdy", "13/28/2024", None),
        ("varchar", " as served ", " as served "),
    ],
)
def test_sql_value_reads_in_the_local_stand_in_as_decided(kind: str, value: str, expected: object) -> None:
    sql = f"SELECT {sql_value(kind, 'element_at(fields, ' + repr('A') + ')')} FROM t"
    (statement,) = sqlglot.transpile(sql, read="athena", write="duckdb")
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t AS SELECT MAP {'A': ?} AS fields", [value])
    assert connection.execute(statement).fetchall() == [(expected,)]


ODD_VALUES = [
    " 12 ",
    "\u00a012",
    "12\u00a0",
    "\t12",
    "12\n",
    "\u200b12",
    "\u3000" + "12",
    "\u0661\u0662",
    "\uff11\uff12",
    "1\u066c000",
    " (4.18) ",
    "\u00a0(4.18)",
    "1,234.5\u2007",
    " 2024-03-05",
    "2024-03-05\u00a0",
    "\u0662024-03-05",
    " 3/28/2024 ",
    "3/28/2024\u202f",
]


@pytest.mark.parametrize("value", ODD_VALUES)
def test_a_value_typed_as_a_number_or_a_date_reads_as_one_in_the_local_stand_in(value: str) -> None:
    """What the decision takes for a number or a date never reads NULL for its padding or its digits."""
    kind = kind_of(value)
    if kind in (EMPTY, "varchar"):
        return
    sql = f"SELECT {sql_value(kind, 'element_at(fields, ' + repr('A') + ')')} FROM t"
    (statement,) = sqlglot.transpile(sql, read="athena", write="duckdb")
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t AS SELECT MAP {'A': ?} AS fields", [value])
    assert connection.execute(statement).fetchall() != [(None,)], f"{value!r} typed {kind} reads NULL"


def test_a_summary_made_under_older_rules_is_made_again_and_kept_until_then(aws: Clients) -> None:
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", EARNINGS)
    put_curated(aws, "appstore/earnings/year=2024/month=03/earnings_2024_03.json.gz", {"section": None, "fields": {"Amount": "\u00a05"}})
    key = "appstore/earnings/year=2024/month=03/earnings_2024_03.json.gz"
    etag = aws.s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    older = {"etag": etag, "sections": to_json({None: {"Amount": "bigint"}})}  # as the rules before RULES decided it
    aws.s3.put_object(Bucket=BUCKET, Key=EARNINGS.columns_key("appstore/"), Body=json.dumps({"format": 1, "periods": {"2024-03": older}}))
    assert summaries(store, reads=0) == ({"2024-03": older}, False)  # no reads left: the older decision stands meanwhile
    periods, changed = summaries(store)
    assert changed and periods["2024-03"]["rules"] == RULES and from_json(periods["2024-03"]["sections"]) == {None: {"Amount": "varchar"}}
    keep_typed_views(store, aws.glue, DATABASE, TABLE)
    view = aws.glue.get_table(DatabaseName=DATABASE, Name="sales_earnings_typed")["Table"]
    assert [(c["Name"], c["Type"]) for c in view["StorageDescriptor"]["Columns"]][3:] == [("amount", "string")]
    assert summaries(store) == (periods, False)


def test_column_names_are_snake_case_unique_and_never_the_views_own() -> None:
    keys = ["Payment Amount", "payment amount", "Year", "Line", "", "1st Week", "Note (2)", "Ünits"]
    names = unique_names(keys, "column", {"year", "month", "section", "line"})
    assert names == ["payment_amount", "payment_amount_2", "year_2", "line_2", "column", "c_1st_week", "note_2", "nits"]


def curated(*records: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records)))


def test_views_one_per_section_typed_from_every_file() -> None:
    old = summarise(curated({"section": "Summary", "fields": {"Units": "3,121", "Paid": "1.5"}}, {"section": "It's", "fields": {"X": "1"}}))
    new = summarise(curated({"section": "Summary", "fields": {"Units": "12", "Paid": "x", "New": "3/1/2024"}}))
    made = {v.name: v for v in views(YEARLY, "db", "t_yearly", combine([old, new]))}
    assert list(made) == ["t_yearly_typed_summary", "t_yearly_typed_it_s"]
    assert made["t_yearly_typed_summary"].columns == (
        ("year", "varchar"),
        ("line", "bigint"),
        ("units", "bigint"),
        ("paid", "varchar"),
        ("new", "date:mdy"),
    )
    assert "WHERE section = 'It''s'" in made["t_yearly_typed_it_s"].sql
    (plain,) = views(EARNINGS, "db", "t", {None: {"A": "bigint", "Account": "varchar"}})
    assert [name for name, _ in plain.columns] == ["year", "month", "line", "a", "account_2"]  # `account` kept free
    assert plain.name == "t_typed" and plain.sql.endswith('FROM "db"."t" WHERE section IS NULL')
    stored = table_input(plain, "db")
    assert stored["TableType"] == "VIRTUAL_VIEW" and presto_sql(stored) == plain.sql
    assert [(c["Name"], c["Type"]) for c in stored["StorageDescriptor"]["Columns"]] == [
        ("year", "string"), ("month", "string"), ("line", "bigint"), ("a", "bigint"), ("account_2", "string"),
    ]  # fmt: skip


def put_curated(aws: Clients, key: str, *records: dict[str, Any]) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=curated(*records).getvalue())


def test_upkeep_writes_the_summary_after_the_views_and_only_when_it_changed(aws: Clients) -> None:
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", EARNINGS)
    put_curated(aws, "appstore/earnings/year=2024/month=03/earnings_2024_03.json.gz", {"section": None, "fields": {"Amount": "1.00"}})
    refused: list[str] = []

    def refuse(params: dict[str, Any], **kwargs: Any) -> None:
        refused.append(params["TableInput"]["Name"])
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "injected"}}, "CreateTable")

    aws.glue.meta.events.register("before-parameter-build.glue.CreateTable", refuse)
    with pytest.raises(TypedViewsError, match="AccessDeniedException"):
        keep_typed_views(store, aws.glue, DATABASE, TABLE)
    assert refused == ["sales_earnings_typed"] and not keys(aws, "appstore/state/")  # the next run tries it all again
    aws.glue.meta.events.unregister("before-parameter-build.glue.CreateTable", refuse)
    assert keep_typed_views(store, aws.glue, DATABASE, TABLE) == ["sales_earnings_typed created"]
    assert keys(aws, "appstore/state/") == ["appstore/state/earnings/columns.json"]
    first = aws.s3.head_object(Bucket=BUCKET, Key="appstore/state/earnings/columns.json")["ETag"]
    assert keep_typed_views(store, aws.glue, DATABASE, TABLE) == []  # nothing changed: nothing written
    assert aws.s3.head_object(Bucket=BUCKET, Key="appstore/state/earnings/columns.json")["ETag"] == first
    put_curated(
        aws, "appstore/earnings/year=2024/month=04/earnings_2024_04.json.gz", {"section": None, "fields": {"Amount": "(2)", "Due": "n/a"}}
    )
    assert keep_typed_views(store, aws.glue, DATABASE, TABLE) == ["sales_earnings_typed updated"]
    view = aws.glue.get_table(DatabaseName=DATABASE, Name="sales_earnings_typed")["Table"]
    assert [(c["Name"], c["Type"]) for c in view["StorageDescriptor"]["Columns"]][3:] == [("amount", "decimal(38,2)"), ("due", "string")]
    aws.s3.put_object(Bucket=BUCKET, Key="appstore/state/earnings/columns.json", Body=b"not json")  # unreadable: rebuilt
    assert keep_typed_views(store, aws.glue, DATABASE, TABLE) == []
    summary = json.loads(aws.s3.get_object(Bucket=BUCKET, Key="appstore/state/earnings/columns.json")["Body"].read())
    assert list(summary["periods"]) == ["2024-03", "2024-04"]


def test_the_sales_type_has_no_typed_views(aws: Clients) -> None:
    assert keep_typed_views(ArchiveStore(aws.s3, BUCKET, "appstore/"), aws.glue, DATABASE, TABLE) == []
    assert not keys(aws, "appstore/state/")


def test_the_local_stand_in_reads_only_a_view_with_a_presto_definition() -> None:
    assert presto_sql({"Name": "t", "TableType": "EXTERNAL_TABLE"}) is None
    with pytest.raises(ValueError, match="no Presto view definition"):
        presto_sql({"Name": "v", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "SELECT 1"})
