"""Keys of the report types the CLI does not audit (all but sales): part of the layout, never stray keys."""

from __future__ import annotations

import re

from archiver.reports import REPORT_TYPES, ReportType

AUDITED = "sales"
_MARKER = re.compile(r"(not_found|deferred|pending)/([0-9-]+)\.json")
_QUARANTINED = re.compile(r"[0-9a-f]{64}-[^/]+")


def is_other_report_key(prefix: str, key: str) -> bool:
    """Whether `key` is a raw, curated, state or quarantine key of a report type other than sales, or any type's unsupported marker."""
    if any(key == report.unsupported_key(prefix) for report in REPORT_TYPES):
        return True
    return any(_in_layout(report, prefix, key) for report in REPORT_TYPES if report.name != AUDITED)


def _in_layout(report: ReportType, prefix: str, key: str) -> bool:
    """Whether `key` is one of the report type's raw, curated, state or quarantine keys."""
    state = f"{prefix}state/{report.name}/"
    if key.startswith(state) and (match := _MARKER.fullmatch(key[len(state) :])):
        try:
            return report.state_key(prefix, match[1], report.parse_period(match[2])) == key
        except ValueError:
            return False
    period = report.period_in_key(key)
    if period is None:
        return False
    if key == report.curated_key(prefix, period):
        return True
    raw, quarantined = report.raw_prefix(prefix, period), f"{prefix}quarantine/{report.name}/{report.partition_path(period)}"
    if key.startswith(raw) and "/" not in key[len(raw) :] and key != raw:
        return True
    return key.startswith(quarantined) and _QUARANTINED.fullmatch(key[len(quarantined) :]) is not None
