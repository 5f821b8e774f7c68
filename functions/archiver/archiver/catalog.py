"""Register month partitions in the Glue sales table, idempotently."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

# Storage descriptor fields a partition inherits from its table.
_INHERITED = ("Columns", "InputFormat", "OutputFormat", "Compressed", "SerdeInfo", "Parameters", "StoredAsSubDirectories")


class CatalogError(RuntimeError):
    """The Glue table is missing or cannot be updated."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Catalog:
    """One Glue table and its (year, month) partitions."""

    def __init__(self, glue: GlueClient, database: str, table: str) -> None:
        self.glue, self.database, self.table = glue, database, table
        self._descriptor: dict[str, Any] | None = None

    def descriptor(self) -> dict[str, Any]:
        """The table's storage descriptor (checked once per run, before any write)."""
        if self._descriptor is None:
            try:
                table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
            except ClientError as exc:
                if _code(exc) == "EntityNotFoundException":
                    raise CatalogError(f"Glue table {self.database}.{self.table} does not exist") from None
                raise
            keys = [k["Name"] for k in table.get("PartitionKeys", [])]
            if keys != ["year", "month"]:
                raise CatalogError(f"Glue table {self.database}.{self.table} must be partitioned by year, month; has {keys}")
            self._descriptor = dict(table["StorageDescriptor"])
        return self._descriptor

    def partitions(self) -> dict[tuple[str, str], str]:
        """Every registered partition: (year, month) values -> location."""
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=self.database, TableName=self.table)
        found: dict[tuple[str, str], str] = {}
        for page in pages:
            for partition in page["Partitions"]:
                year, month = partition["Values"]
                found[(year, month)] = partition.get("StorageDescriptor", {}).get("Location", "")
        return found

    def ensure_partition(self, values: list[str], location: str) -> str:
        """Create the partition, or correct its location; 'created', 'updated' or 'unchanged'."""
        inherited = {k: v for k, v in self.descriptor().items() if k in _INHERITED}
        partition = {"Values": values, "StorageDescriptor": {**inherited, "Location": location}}
        try:
            current = self.glue.get_partition(DatabaseName=self.database, TableName=self.table, PartitionValues=values)
        except ClientError as exc:
            if _code(exc) != "EntityNotFoundException":
                raise
            try:
                self.glue.create_partition(DatabaseName=self.database, TableName=self.table, PartitionInput=partition)  # type: ignore[arg-type]
                return "created"
            except ClientError as race:
                if _code(race) != "AlreadyExistsException":
                    raise
                current = self.glue.get_partition(DatabaseName=self.database, TableName=self.table, PartitionValues=values)
        if current["Partition"].get("StorageDescriptor", {}).get("Location") == location:
            return "unchanged"
        self.glue.update_partition(
            DatabaseName=self.database,
            TableName=self.table,
            PartitionValueList=values,
            PartitionInput=partition,  # type: ignore[arg-type]
        )
        return "updated"
