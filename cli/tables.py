"""A report type's Glue table as the CLI sees it: the table (or why it cannot be read) and its partitions by period."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archiver.core.periods import Period
from archiver.core.report_types import ReportType
from archiver.storage.catalog import Catalog, CatalogError

if TYPE_CHECKING:
    from cli.target import Target


@dataclass(frozen=True)
class TableView:
    """The table's name and definition (None when it cannot be read, `error` says why) and its partitions."""

    name: str
    table: dict[str, Any] | None
    partitions: dict[Period, str] = field(default_factory=dict)  # period -> location
    error: str | None = None
    odd: dict[tuple[str, ...], str] = field(default_factory=dict)  # values that name no period as the layout writes it -> location

    @property
    def columns(self) -> list[tuple[str, str]]:
        """The table's columns: (name, type)."""
        columns = (self.table or {}).get("StorageDescriptor", {}).get("Columns", [])
        return [(str(c["Name"]), str(c.get("Type", ""))) for c in columns]


def read_table(glue: Any, target: Target, report: ReportType) -> TableView:
    """Read the type's table and partitions with the function's own Catalog; a missing or wrongly keyed table is an error."""
    name = report.table_name(target.table)
    catalog = Catalog(glue, target.database, name, report.partition_keys)
    try:
        catalog.descriptor()
        table = dict(glue.get_table(DatabaseName=target.database, Name=name)["Table"])
        found = catalog.partitions()
    except CatalogError as exc:
        return TableView(name, None, error=str(exc))
    partitions: dict[Period, str] = {}
    odd: dict[tuple[str, ...], str] = {}
    for values, location in found.items():
        try:
            period = report.parse_period("-".join(values))
        except ValueError:  # month=13, or a year that is no number: no period of the layout
            odd[tuple(values)] = location
            continue
        if tuple(report.partition_values(period)) == tuple(values):
            partitions[period] = location
        else:  # ('2024', '3') beside ('2024', '03'): Athena would read the same files twice
            odd[tuple(values)] = location
    return TableView(name, table, partitions, odd=odd)
