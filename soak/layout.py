"""The contract's S3 layout for every report type: a type's period (a slot), and the keys of its objects and markers."""

from __future__ import annotations

import re
from typing import NamedTuple

from archiver.core.report_types import REPORT_TYPES

MONTHLY = {r.name: r.period == "month" for r in REPORT_TYPES}  # every report type, and whether its period is a month
SUFFIX = {r.name: r.table_suffix for r in REPORT_TYPES}  # the type's Glue table: GLUE_TABLE + suffix


class Slot(NamedTuple):
    """One period of one report type: ("sales", "2026-11"), ("earnings_yearly", "2026")."""

    report: str
    period: str  # YYYY-MM, or YYYY for a yearly type

    def __str__(self) -> str:
        return self.period if self.report == "sales" else f"{self.report} {self.period}"

    @property
    def folders(self) -> str:
        """The partition folders: `year=YYYY/month=MM/` or `year=YYYY/`."""
        year, _, month = self.period.partition("-")
        return f"year={year}/" + (f"month={month}/" if month else "")

    def earlier(self) -> Slot:
        """The same period a year earlier (where a drawn change points a partition)."""
        year, dash, month = self.period.partition("-")
        return Slot(self.report, f"{int(year) - 1:04d}{dash}{month}")


def slot(report: str, year: str, month: str | None) -> Slot | None:
    """The slot a key's type and partition folders name, or None if they do not fit the type's period."""
    if report not in MONTHLY or MONTHLY[report] != (month is not None) or (month is not None and not 1 <= int(month) <= 12):
        return None
    return Slot(report, f"{year}-{month}" if month else year)


class Layout:
    """The contract's keys under the prefix, for every report type."""

    def __init__(self, bucket: str, prefix: str) -> None:
        p, types, period = re.escape(prefix), "|".join(MONTHLY), r"year=(\d{4})/(?:month=(\d{2})/)?"
        self.bucket, self.prefix = bucket, prefix
        self.raw = re.compile(rf"{p}raw/({types})/{period}([^/]+)")
        self.curated = re.compile(rf"{p}({types})/{period}[^/]+")  # the exact name is checked by `curated_key`
        self.marker = re.compile(rf"{p}state/({types})/(not_found|deferred|pending)/(\d{{4}})(?:-(\d{{2}}))?\.json")
        self.quarantine = re.compile(rf"{p}quarantine/({types})/{period}[0-9a-f]{{64}}-[^/]+")
        # the archive lease, a type's unsupported marker and its typed views' column summary
        self.other_state = re.compile(rf"{p}state/(?:lease\.json|(?:{types})/(?:unsupported|columns)\.json)")
        self.history = re.compile(rf"{p}history/sales/year=\d{{4}}/month=\d{{2}}/\d{{8}}T\d{{6}}Z-[0-9a-f]{{64}}\.csv\.gz")  # sales only
        self.periods = re.compile(rf"{p}periods/(?:{types})\.json\.gz")  # a type's object in the periods table

    def slot_of(self, key: str) -> tuple[str, Slot] | None:
        """("raw"|"curated"|marker kind, slot) of a raw object, a curated object or a state marker."""
        if m := self.raw.fullmatch(key):
            found = slot(m[1], m[2], m[3])
            return ("raw", found) if found else None
        if m := self.marker.fullmatch(key):
            found = slot(m[1], m[3], m[4])
            return (m[2], found) if found else None
        if (m := self.curated.fullmatch(key)) and (found := slot(m[1], m[2], m[3])) and key == self.curated_key(found):
            return "curated", found
        return None

    def curated_key(self, at: Slot) -> str:
        """The slot's one curated object: `{type}/year=YYYY[/month=MM]/{type}_YYYY[_MM].csv.gz` (sales) or `.json.gz`."""
        stem = "_".join((at.report, *at.period.split("-")))
        return f"{self.prefix}{at.report}/{at.folders}{stem}.{'csv' if at.report == 'sales' else 'json'}.gz"

    def marker_key(self, at: Slot, kind: str) -> str:
        """The slot's state marker of this kind."""
        return f"{self.prefix}state/{at.report}/{kind}/{at.period}.json"

    def location(self, at: Slot) -> str:
        """The partition location of a slot."""
        return f"s3://{self.bucket}/{self.prefix}{at.report}/{at.folders}"
