"""The sales history table and the restatements view agree with archiver/answers/history.py and compute the right changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from archiver.answers.history import HISTORY_COLUMNS, history_prefix
from archiver.answers.history_upkeep import HISTORY_SUFFIX
from archiver.formats import schema
from archiver.storage.store import ArchiveStore
from infra.template.load import named_queries, resource
from tests.template.conftest import PARAMETER_SETS, Resolver, archive_bucket, curated_dialect, resolved_table, serde_dialect

RESTATEMENTS = "Create the sales restatements view"


def test_history_table_columns_serde_and_partitions_match_the_writer(template: dict[str, Any]) -> None:
    table_input = resource(template, "SalesHistoryTable")["Properties"]["TableInput"]
    storage = table_input["StorageDescriptor"]
    assert [c["Name"] for c in storage["Columns"]] == [*schema.CANONICAL_COLUMNS, *HISTORY_COLUMNS]
    assert {c["Type"] for c in storage["Columns"]} == {"string"}
    assert tuple(k["Name"] for k in table_input["PartitionKeys"]) == schema.PARTITION_KEYS
    sales = resource(template, "SalesTable")["Properties"]["TableInput"]
    assert table_input["Parameters"] == sales["Parameters"]  # gzip CSV, one header line skipped
    assert storage["SerdeInfo"] == sales["StorageDescriptor"]["SerdeInfo"]
    serde = storage["SerdeInfo"]["Parameters"]
    assert serde_dialect(serde) == curated_dialect()


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_history_table_name_and_location_follow_the_code(resolver: Resolver, parameter_set: str) -> None:
    parameters = PARAMETER_SETS[parameter_set]
    context, table_input = resolved_table(resolver, parameters, "SalesHistoryTable")
    bucket = archive_bucket(parameters)
    store = ArchiveStore(None, bucket, context.parameters["ArchivePrefix"])  # type: ignore[arg-type]  # layout only, no call
    assert table_input["StorageDescriptor"]["Location"] == f"s3://{bucket}/{history_prefix(store)}"
    assert table_input["Name"] == "sales" + HISTORY_SUFFIX


def test_restatements_view_gives_each_fetch_its_change_per_currency(resolver: Resolver) -> None:
    """Two fetches of March: USD restated (an amount cut, a refund added), EUR only in the second; April one fetch."""
    duckdb = pytest.importorskip("duckdb")
    sqlglot = pytest.importorskip("sqlglot")
    sql = named_queries(resolver({}))[RESTATEMENTS]
    assert sql.startswith('CREATE OR REPLACE VIEW "appstore_archive"."sales_restatements" AS')
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA appstore_archive")
    columns = [*schema.CANONICAL_COLUMNS, *HISTORY_COLUMNS, *schema.PARTITION_KEYS]
    connection.execute(f"CREATE TABLE appstore_archive.sales_history ({', '.join(f'{c} VARCHAR' for c in columns)})")
    first, second, april = ("2024-03-05 10:00:00", "a" * 64), ("2024-04-02 10:00:00", "b" * 64), ("2024-04-05 10:00:00", "c" * 64)
    rows = [
        (first, "03", "USD", "1", "2.00", "1.40"),
        (first, "03", "USD", "2", "3.00", "2.10"),
        (second, "03", "USD", "1", "1.80", "1.26"),
        (second, "03", "USD", "2", "3.00", "2.10"),
        (second, "03", "USD", "-1", "-2.00", "-1.40"),
        (second, "03", "EUR", "1", "0.99", "0.69"),
        (april, "04", "USD", "1", "1.00", ""),
    ]
    for (fetched, sha), month, currency, units, sales, earnings in rows:
        values = {"marketplace_currency": currency, "units": units, "sales_price": sales, "estimated_earnings": earnings}
        values.update(fetched_at=fetched, source_sha256=sha, year="2024", month=month)
        connection.execute(
            f"INSERT INTO appstore_archive.sales_history VALUES ({', '.join('?' for _ in columns)})", [values.get(c, "") for c in columns]
        )
    (statement,) = sqlglot.transpile(sql, read="athena", write="duckdb")
    connection.execute(statement)
    found = connection.execute(
        "SELECT month, fetch_number, currency, rows, units, sales, estimated_earnings, rows_change, units_change, sales_change,"
        " estimated_earnings_change FROM appstore_archive.sales_restatements ORDER BY month, fetch_number, currency"
    ).fetchall()
    d = Decimal
    assert found == [
        ("03", 1, "EUR", 0, 0, d(0), d(0), None, None, None, None),
        ("03", 1, "USD", 2, 3, d("5.00"), d("3.50"), None, None, None, None),
        ("03", 2, "EUR", 1, 1, d("0.99"), d("0.69"), 1, 1, d("0.99"), d("0.69")),
        ("03", 2, "USD", 3, 2, d("2.80"), d("1.96"), 1, -1, d("-2.20"), d("-1.54")),
        ("04", 1, "USD", 1, 1, d("1.00"), None, None, None, None, None),  # no earnings yet: unknown, not zero
    ]
