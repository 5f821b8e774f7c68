"""Glue partitions of a monthly and a yearly table, against moto's Glue with the template's tables."""

from __future__ import annotations

import pytest

from archiver.core.months import Month
from archiver.core.periods import Year
from archiver.core.report_types import BY_NAME, JSON_SERDE
from archiver.run.startup import Clients
from archiver.storage.catalog import Catalog, CatalogError
from tests.unit.conftest import BUCKET, DATABASE, TABLE

YEARLY = BY_NAME["earnings_yearly"]
SALES = BY_NAME["sales"]


def yearly(aws: Clients) -> Catalog[tuple[str, ...]]:
    """The earnings_yearly table, keyed as its report type says."""
    return Catalog(aws.glue, DATABASE, YEARLY.table_name(TABLE), YEARLY.partition_keys)


def test_a_yearly_table_registers_year_partitions(aws: Clients) -> None:
    catalog = yearly(aws)
    first, moved = YEARLY.location(BUCKET, "appstore/", Year(2024)), f"s3://{BUCKET}/elsewhere/year=2024/"
    assert catalog.partitions() == {}
    assert catalog.ensure_partition(YEARLY.partition_values(Year(2024)), first) == "created"
    assert catalog.ensure_partition(["2024"], first) == "unchanged"
    assert catalog.ensure_partition(("2024",), moved) == "updated"
    assert catalog.ensure_partition(["2023"], YEARLY.location(BUCKET, "appstore/", Year(2023))) == "created"
    assert catalog.partitions() == {("2024",): moved, ("2023",): f"s3://{BUCKET}/appstore/earnings_yearly/year=2023/"}
    stored = aws.glue.get_partition(DatabaseName=DATABASE, TableName=YEARLY.table_name(TABLE), PartitionValues=["2023"])
    table = aws.glue.get_table(DatabaseName=DATABASE, Name=YEARLY.table_name(TABLE))["Table"]
    descriptor = stored["Partition"]["StorageDescriptor"]
    assert descriptor["SerdeInfo"] == table["StorageDescriptor"]["SerdeInfo"]  # the JSON SerDe, inherited
    assert descriptor["Columns"] == table["StorageDescriptor"]["Columns"]


OPENX_SERDE = {
    "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
    "Parameters": {"case.insensitive": "false", "ignore.malformed.json": "false"},
}
OLD_COLUMNS = [{"Name": "section", "Type": "string"}, {"Name": "line", "Type": "bigint"}, {"Name": "fields", "Type": "map<string,string>"}]


@pytest.mark.parametrize(
    "old",
    [{"SerdeInfo": OPENX_SERDE}, {"Columns": OLD_COLUMNS}, {"SerdeInfo": OPENX_SERDE, "Columns": OLD_COLUMNS}],
    ids=["serde", "columns", "both"],
)
def test_a_partition_registered_with_the_old_serde_or_columns_is_migrated_once(aws: Clients, old: dict[str, object]) -> None:
    catalog, table = yearly(aws), YEARLY.table_name(TABLE)
    location = YEARLY.location(BUCKET, "appstore/", Year(2024))
    current = aws.glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["StorageDescriptor"]
    registered = {**current, **old, "Location": location}
    aws.glue.create_partition(DatabaseName=DATABASE, TableName=table, PartitionInput={"Values": ["2024"], "StorageDescriptor": registered})
    assert catalog.partitions() == {("2024",): location}
    assert catalog.partitions(as_table=True) == {}  # the run's listing leaves it out, so the run registers it again
    assert catalog.ensure_partition(["2024"], location) == "updated"
    assert catalog.partitions(as_table=True) == {("2024",): location}
    stored = aws.glue.get_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=["2024"])["Partition"]["StorageDescriptor"]
    assert stored["SerdeInfo"] == current["SerdeInfo"] and stored["SerdeInfo"]["SerializationLibrary"] == JSON_SERDE
    assert stored["Columns"] == current["Columns"] and stored["Columns"][-1] == {"Name": "cells", "Type": "array<string>"}
    assert stored["Location"] == location
    assert catalog.ensure_partition(["2024"], location) == "unchanged"  # idempotent: the next run changes nothing
    assert Catalog(aws.glue, DATABASE, table, YEARLY.partition_keys).ensure_partition(["2024"], location) == "unchanged"


def test_the_monthly_default_is_unchanged(aws: Clients) -> None:
    catalog = Catalog(aws.glue, DATABASE, TABLE)
    location = SALES.location(BUCKET, "appstore/", Month(2024, 3))
    assert catalog.ensure_partition(["2024", "03"], location) == "created"
    assert catalog.partitions() == {("2024", "03"): location}
    assert Catalog(aws.glue, DATABASE, TABLE, SALES.partition_keys).partitions() == {("2024", "03"): location}


@pytest.mark.parametrize(
    ("table", "keys", "message"),
    [
        (YEARLY.table_name(TABLE), None, r"must be partitioned by year, month; has \['year'\]"),
        (TABLE, ("year",), r"must be partitioned by year; has \['year', 'month'\]"),
        ("missing", ("year",), "does not exist"),
    ],
)
def test_the_table_must_have_the_keys_the_caller_expects(aws: Clients, table: str, keys: tuple[str, ...] | None, message: str) -> None:
    catalog = Catalog(aws.glue, DATABASE, table) if keys is None else Catalog(aws.glue, DATABASE, table, keys)
    with pytest.raises(CatalogError, match=message):
        catalog.descriptor()
    with pytest.raises(CatalogError, match=message):
        catalog.ensure_partition(["2024", "03"] if keys is None else ["2024"], "s3://x/")
    for name in (TABLE, YEARLY.table_name(TABLE)):
        assert aws.glue.get_partitions(DatabaseName=DATABASE, TableName=name)["Partitions"] == []


@pytest.mark.parametrize("values", [["2024", "03"], [], ["2024", "03", "01"]])
def test_values_of_the_wrong_length_are_refused_before_any_call(aws: Clients, values: list[str]) -> None:
    with pytest.raises(ValueError, match="do not match the keys"):
        yearly(aws).ensure_partition(values, "s3://x/")
    assert yearly(aws).partitions() == {}


def test_a_partition_not_keyed_like_its_table_is_an_error(aws: Clients) -> None:
    table = YEARLY.table_name(TABLE)
    descriptor = aws.glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["StorageDescriptor"]
    aws.glue.create_partition(
        DatabaseName=DATABASE, TableName=table, PartitionInput={"Values": ["2024", "03"], "StorageDescriptor": descriptor}
    )
    with pytest.raises(CatalogError, match=r"partition \['2024', '03'\] not keyed by"):
        yearly(aws).partitions()
