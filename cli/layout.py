"""Classify a key under the prefix by the function's own layout (archiver.core.report_types' helpers), for every report type."""

from __future__ import annotations

import re

from archiver.answers.history import NAME as HISTORY_NAME
from archiver.answers.history import history_folder
from archiver.answers.periods_table import periods_key
from archiver.core.periods import Period
from archiver.core.report_types import REPORT_TYPES, ReportType

MARKERS = ("not_found", "deferred", "pending")
_MARKER = re.compile(rf"({'|'.join(MARKERS)})/([0-9-]+)\.json")
_QUARANTINED = re.compile(r"[0-9a-f]{64}-[^/]+")

# What a key is: (report type, kind, period); kind is raw, curated, quarantine, history, a marker kind, or (no period)
# unsupported, columns (the typed views' summary) or periods (the type's object in the periods table).
Kind = tuple[ReportType, str, Period | None]


def own_folders(prefix: str) -> tuple[str, ...]:
    """The archive's own folders under the prefix: raw/, each type's table location, state/, quarantine/.

    Only these are the archive's: with an empty prefix, or a bucket shared with other data, the rest is not its to judge.
    """
    return (f"{prefix}raw/", *(report.table_prefix(prefix) for report in REPORT_TYPES), f"{prefix}state/", f"{prefix}quarantine/")


def classify_key(prefix: str, key: str) -> Kind | None:
    """The report type, kind and period of a key of the layout; None for a stray key."""
    for report in REPORT_TYPES:
        found = classify(report, prefix, key)
        if found is not None:
            return report, *found
    return None


def classify(report: ReportType, prefix: str, key: str) -> tuple[str, Period | None] | None:
    """(kind, period) when `key` is one of the report type's raw, curated, state, quarantine or history keys."""
    if key == report.unsupported_key(prefix):
        return "unsupported", None
    if key == report.columns_key(prefix) and report.curated == "jsonl":
        return "columns", None  # the typed views' column summary (archiver/answers/typed_upkeep.py)
    if key == periods_key(prefix, report):
        return "periods", None
    state = f"{prefix}state/{report.name}/"
    if key.startswith(state):
        if match := _MARKER.fullmatch(key[len(state) :]):
            try:
                marked = report.parse_period(match[2])
            except ValueError:
                return None
            return (match[1], marked) if report.state_key(prefix, match[1], marked) == key else None
        return None
    period = report.period_in_key(key)
    if period is None:
        return None
    if key == report.curated_key(prefix, period):
        return "curated", period
    raw, quarantined = report.raw_prefix(prefix, period), f"{prefix}quarantine/{report.name}/{report.partition_path(period)}"
    if key.startswith(raw) and key != raw and "/" not in key[len(raw) :]:
        return "raw", period
    if key.startswith(quarantined) and _QUARANTINED.fullmatch(key[len(quarantined) :]):
        return "quarantine", period
    history = history_folder(prefix, report) + report.partition_path(period)
    if report.curated == "csv" and key.startswith(history) and HISTORY_NAME.fullmatch(key[len(history) :]):
        return "history", period
    return None
