"""Register partitions (year/month, or year) in a Glue table of the archive, idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, cast, overload

from botocore.exceptions import ClientError
from typing_extensions import TypeVar

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
else:
    GlueClient = Any

# Storage descriptor fields a partition inherits from its table.
_INHERITED = ("Columns", "InputFormat", "OutputFormat", "Compressed", "SerdeInfo", "Parameters", "StoredAsSubDirectories")


MONTHLY: tuple[str, ...] = ("year", "month")
# A partition's values: (year, month) for the default monthly keys; any length when the keys are given.
Values = TypeVar("Values", bound=tuple[str, ...], default=tuple[str, str])


class CatalogError(RuntimeError):
    """The Glue table is missing or cannot be updated."""


def _shape(descriptor: dict[str, Any]) -> dict[str, Any]:
    """What a partition inherits from its table, as compared: columns by name and type, empty values as absent."""
    shape: dict[str, Any] = {k: descriptor.get(k) or None for k in _INHERITED if k not in ("Columns", "SerdeInfo")}
    shape["Columns"] = [(c.get("Name"), str(c.get("Type", "")).lower()) for c in descriptor.get("Columns", [])]
    serde = descriptor.get("SerdeInfo", {})
    shape["SerdeInfo"] = (serde.get("SerializationLibrary"), serde.get("Parameters") or {})
    return shape


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Catalog(Generic[Values]):
    """One Glue table and its partitions, keyed by `keys` (year, month by default; year for yearly reports)."""

    @overload
    def __init__(self: Catalog[tuple[str, str]], glue: GlueClient, database: str, table: str) -> None: ...
    @overload
    def __init__(self: Catalog[tuple[str, ...]], glue: GlueClient, database: str, table: str, keys: tuple[str, ...]) -> None: ...
    def __init__(self, glue: GlueClient, database: str, table: str, keys: tuple[str, ...] = MONTHLY) -> None:
        self.glue, self.database, self.table, self.keys = glue, database, table, keys
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
            if keys != list(self.keys):
                expected = ", ".join(self.keys)
                raise CatalogError(f"Glue table {self.database}.{self.table} must be partitioned by {expected}; has {keys}")
            self._descriptor = dict(table["StorageDescriptor"])
        return self._descriptor

    def partitions(self, as_table: bool = False) -> dict[Values, str]:
        """Every registered partition: its values, e.g. (year, month) or (year,), -> location; `as_table`: only those
        whose SerDe and columns are the table's (a run updates the others)."""
        table = _shape({k: v for k, v in self.descriptor().items() if k in _INHERITED}) if as_table else None
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=self.database, TableName=self.table)
        found: dict[Values, str] = {}
        for page in pages:
            for partition in page["Partitions"]:
                values = tuple(partition["Values"])
                if len(values) != len(self.keys):
                    raise CatalogError(f"Glue table {self.database}.{self.table} has a partition {list(values)} not keyed by {self.keys}")
                descriptor = partition.get("StorageDescriptor", {})
                if table is None or _shape(dict(descriptor)) == table:
                    found[cast(Values, values)] = descriptor.get("Location", "")
        return found

    def ensure_partition(self, values: Sequence[str], location: str) -> str:
        """Create the partition, or correct its location, SerDe or columns to the table's; 'created', 'updated' or 'unchanged'.

        A partition keeps the SerDe and columns it was registered with, and Athena reads it with them: one registered
        before the table changed (the OpenX JSON SerDe, no `cells` column) is updated to the table's.
        """
        if len(values) != len(self.keys):
            raise ValueError(f"partition values {list(values)} do not match the keys {self.keys} of {self.database}.{self.table}")
        values = list(values)
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
        registered = current["Partition"].get("StorageDescriptor", {})
        if registered.get("Location") == location and _shape(dict(registered)) == _shape(inherited):
            return "unchanged"
        self.glue.update_partition(
            DatabaseName=self.database,
            TableName=self.table,
            PartitionValueList=values,
            PartitionInput=partition,  # type: ignore[arg-type]
        )
        return "updated"
