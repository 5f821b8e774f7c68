"""A report type's completeness: one row per period from its first to now, read from the bucket and the run's results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from archiver.answers.evidence import Seen, first_version, gather, iso
from archiver.core.months import Month
from archiver.core.periods import Period, between
from archiver.core.results import MonthResult
from archiver.storage.store import ArchiveStore

# The periods table's columns, in order (template.yaml's PeriodsTable lists exactly these; times are ISO 8601 UTC text).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("report", "string"),
    ("period", "string"),
    ("year", "string"),
    ("month", "string"),
    ("status", "string"),
    ("row_count", "bigint"),
    ("served_name", "string"),
    ("sha256", "string"),
    ("first_archived", "string"),
    ("last_changed", "string"),
    ("last_error", "string"),
)
STATUSES = ("archived", "not_found", "quarantined", "pending", "deferred", "failed", "unsupported")


@dataclass(frozen=True)
class PeriodRow:
    """One period of one report type; a period no run has asked yet is `deferred` (due), with no error."""

    report: str
    period: str
    year: str
    month: str | None
    status: str
    row_count: int | None = None
    served_name: str | None = None
    sha256: str | None = None
    first_archived: str | None = None  # the oldest version of its raw object (what Amazon first served)
    last_changed: str | None = None  # the current version of its raw object (the latest restatement archived)
    last_error: str | None = None  # the error of the latest run that reported on the period (None once one did without)

    def record(self) -> dict[str, object]:
        """The row as the JSON object the table holds, keys in column order."""
        return asdict(self)


NOT_QUERYABLE = "the raw copy is archived but its curated copy is missing: not queryable until a run re-makes it from the raw copy"


def store_status(markers: Iterable[str], raw: datetime | None, quarantined: datetime | None, curated: bool = True) -> str | None:
    """What the bucket says of a period: a pending or deferred marker or a newer quarantine wins over what is archived.

    `archived` means queryable: a raw copy without its curated copy is `failed` (NOT_QUERYABLE) until a run re-makes it.
    """
    held = set(markers)
    if "pending" in held:
        return "pending"
    if "deferred" in held:
        return "deferred"
    if quarantined is not None and (raw is None or quarantined > raw):
        return "quarantined"
    if raw is not None:
        return "archived" if curated else "failed"
    return "not_found" if "not_found" in held else None


def archived_facts(store: ArchiveStore, period: Period, seen: Seen, old: PeriodRow | None) -> dict[str, Any]:
    """Served name, SHA-256, rows, first archived, last changed: from the previous row while the raw object is the same one."""
    key, modified = max(seen.raw.items(), key=lambda item: item[1])
    name, changed = key.rsplit("/", 1)[-1], iso(modified)
    if old is not None and (old.served_name, old.last_changed) == (name, changed) and old.first_archived:
        return {
            "served_name": name,
            "sha256": old.sha256,
            "row_count": old.row_count,
            "first_archived": old.first_archived,
            "last_changed": changed,
        }
    sha256 = store.head(key).metadata.get("sha256")  # a HEAD each, only when the raw object changed
    rows = store.head(store.curated_key(period)).metadata.get("rows", "") if seen.curated else ""
    first = first_version(store, period) or modified
    facts: dict[str, Any] = {"served_name": name, "sha256": sha256, "last_changed": changed}
    return {**facts, "row_count": int(rows) if rows.isdigit() else None, "first_archived": iso(first)}


def row_of(
    store: ArchiveStore, period: Period, seen: Seen, unsupported: bool, result: MonthResult | None, old: PeriodRow | None
) -> PeriodRow:
    """One period's row: the bucket's evidence, this run's result for it (if any), the previous row (if any)."""
    facts = archived_facts(store, period, seen, old) if seen.raw else {}
    status = store_status(seen.markers, max(seen.raw.values(), default=None), seen.quarantined, seen.curated)
    if result is not None:
        failed, error = result.status == "failed", result.error
    else:  # a failure that left nothing behind is remembered until a run reports on the period or the bucket has it
        failed = old is not None and old.status == "failed" and status is None
        error = old.last_error if old is not None else None
    if failed and status not in ("pending", "quarantined"):
        status = "failed"  # the latest attempt failed; the bucket holds what it held before
    values = store.report.partition_values(period)
    month = values[1] if len(values) > 1 else None
    status = status or ("unsupported" if unsupported else "deferred")
    if status == "failed" and seen.raw and not seen.curated:
        error = error or NOT_QUERYABLE
    return PeriodRow(store.report.name, str(period), values[0], month, status, last_error=error, **facts)


def period_rows(
    store: ArchiveStore, start: Month, current: Month, results: Iterable[MonthResult] = (), previous: Mapping[str, PeriodRow] | None = None
) -> list[PeriodRow]:
    """Every period from the type's first (START_MONTH's, or an earlier one the bucket holds) to the current one."""
    report, old = store.report, previous or {}
    seen, unsupported = gather(store)
    latest = {r.month: r for r in results if r.report == report.name}  # a period's last result of the run
    first = min([max(report.period_of(start), report.first), *(p for p, s in seen.items() if s.raw)])
    periods = between(first, report.period_of(current))
    return [row_of(store, p, seen.get(p, Seen()), unsupported, latest.get(str(p)), old.get(str(p))) for p in periods]
