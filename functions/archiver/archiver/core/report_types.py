"""The report types Amazon serves (one small table) and each type's link path, S3 layout and partitions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from archiver.core.months import Month
from archiver.core.periods import Period, Year

# Columns of the schema-free JSON tables (every type but sales); template.yaml lists exactly these. `cells` holds a
# row's values in file order, whatever their keys in `fields` (not `values`: a reserved word in Athena's SQL).
JSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("section", "string"),
    ("line", "bigint"),
    ("fields", "map<string,string>"),
    ("cells", "array<string>"),
)
# The Glue SerDe of the JSON tables: Hive's, which keeps keys as written and fails a query on a malformed line.
JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
_PARTITION = re.compile(r"/year=(\d{4})/(?:month=(\d{2})/)?")


class ReportsError(ValueError):
    """The REPORTS setting names no report type, or one that is not in the table."""


@dataclass(frozen=True)
class ReportType:
    """One report type: how to ask for it, what period a file covers, and how its copies are laid out."""

    name: str
    path: str  # the link path below APPSTORE_REPORT_URL; {year} and {month} (not zero-padded) are filled in
    period: Literal["month", "year"]
    first: Period  # the earliest period asked for
    curated: Literal["csv", "jsonl"]  # csv: the canonical sales columns; jsonl: schema-free sections (archiver/formats/sections.py)
    table_suffix: str  # appended to GLUE_TABLE for this type's Glue table

    @property
    def partition_keys(self) -> tuple[str, ...]:
        """The Glue partition keys of the type's table."""
        return ("year", "month") if self.period == "month" else ("year",)

    def period_of(self, month: Month) -> Period:
        """The period of this type that a month falls in."""
        return month if self.period == "month" else Year.of(month)

    def parse_period(self, text: object) -> Period:
        """Parse `YYYY-MM` (monthly) or `YYYY` (yearly), or raise ValueError naming the value."""
        return Month.parse(text) if self.period == "month" else Year.parse(text)

    def _check(self, period: Period) -> None:
        if isinstance(period, Month) != (self.period == "month"):
            raise TypeError(f"report {self.name} is {self.period}ly; got {type(period).__name__} {period}")

    def link_path(self, period: Period) -> str:
        """The path of the period's report link, e.g. `sales/2024/3` or `earnings/2024`."""
        self._check(period)
        return self.path.format(year=period.year, month=period.month if isinstance(period, Month) else "")

    def partition_values(self, period: Period) -> tuple[str, ...]:
        """The period's partition values, e.g. ('2024', '03') or ('2024',)."""
        self._check(period)
        return (f"{period.year:04d}", period.mm) if isinstance(period, Month) else (f"{period.year:04d}",)

    def partition_path(self, period: Period) -> str:
        """The period's partition folders, e.g. `year=2024/month=03/` or `year=2024/`."""
        return "".join(f"{k}={v}/" for k, v in zip(self.partition_keys, self.partition_values(period), strict=True))

    def raw_prefix(self, prefix: str, period: Period) -> str:
        """Where the period's raw file lives: `{prefix}raw/{type}/year=YYYY[/month=MM]/`."""
        return f"{prefix}raw/{self.name}/{self.partition_path(period)}"

    def table_prefix(self, prefix: str) -> str:
        """The Glue table's location below the bucket: `{prefix}{type}/`."""
        return f"{prefix}{self.name}/"

    def curated_prefix(self, prefix: str, period: Period) -> str:
        """The period's partition folder in the table location."""
        return self.table_prefix(prefix) + self.partition_path(period)

    def curated_name(self, period: Period) -> str:
        """The curated object's file name: `sales_YYYY_MM.csv.gz` or `{type}_YYYY[_MM].json.gz`."""
        stem = "_".join((self.name, *self.partition_values(period)))
        return f"{stem}.csv.gz" if self.curated == "csv" else f"{stem}.json.gz"

    def curated_key(self, prefix: str, period: Period) -> str:
        """The one curated object of the period's partition."""
        return self.curated_prefix(prefix, period) + self.curated_name(period)

    def location(self, bucket: str, prefix: str, period: Period) -> str:
        """The Glue partition location of the period."""
        return f"s3://{bucket}/{self.curated_prefix(prefix, period)}"

    def state_key(self, prefix: str, status: str, period: Period) -> str:
        """A state marker: `{prefix}state/{type}/{status}/YYYY[-MM].json` (not_found, deferred, pending, unsupported)."""
        return f"{prefix}state/{self.name}/{status}/{period}.json"

    def unsupported_key(self, prefix: str) -> str:
        """The type's one `unsupported` marker: its LastModified is when the API last refused the type as unknown."""
        return f"{prefix}state/{self.name}/unsupported.json"

    def columns_key(self, prefix: str) -> str:
        """A schema-free type's column summary, the source of its typed views: `{prefix}state/{type}/columns.json`."""
        return f"{prefix}state/{self.name}/columns.json"

    def quarantine_key(self, prefix: str, period: Period, sha256: str, served_name: str) -> str:
        """Where served bytes that could not be curated are kept."""
        return f"{prefix}quarantine/{self.name}/{self.partition_path(period)}{sha256}-{served_name}"

    def table_name(self, base: str) -> str:
        """The type's Glue table, given GLUE_TABLE (the sales table)."""
        return base + self.table_suffix

    def period_in_key(self, key: str) -> Period | None:
        """The period whose partition folders a key holds, if they match this type's layout."""
        match = _PARTITION.search(key)
        if match is None or (match[2] is None) != (self.period == "year"):
            return None
        if match[2] is None:
            return Year(int(match[1]))
        month = int(match[2])
        return Month(int(match[1]), month) if 1 <= month <= 12 else None


REPORT_TYPES: tuple[ReportType, ...] = (
    ReportType("sales", "sales/{year}/{month}", "month", Month(2018, 1), "csv", ""),
    ReportType("earnings", "earnings/{year}/{month}", "month", Month(2018, 1), "jsonl", "_earnings"),
    ReportType("earnings_yearly", "earnings/{year}", "year", Year(2018), "jsonl", "_earnings_yearly"),
    ReportType("subscription", "subscription/{year}/{month}", "month", Month(2018, 1), "jsonl", "_subscription"),
)
BY_NAME: dict[str, ReportType] = {r.name: r for r in REPORT_TYPES}
SALES = BY_NAME["sales"]
DEFAULT_REPORTS = ",".join(BY_NAME)


def parse_reports(text: str) -> tuple[ReportType, ...]:
    """The report types a comma-separated REPORTS value names, in the table's order (sales first)."""
    names = [name.strip() for name in text.split(",")]
    if not any(names):
        raise ReportsError(f"REPORTS must name at least one report type of {DEFAULT_REPORTS}")
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise ReportsError(f"REPORTS names unknown report type(s) {unknown}; known: {DEFAULT_REPORTS}")
    return tuple(r for r in REPORT_TYPES if r.name in names)
