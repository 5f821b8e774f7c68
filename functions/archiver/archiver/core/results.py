"""The run's result: each month's outcome and status, the return value, and the error a failed run raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("archived", "unchanged", "not_found", "failed", "deferred", "unsupported")


@dataclass
class MonthResult:
    """What happened to one month of one report."""

    report: str
    month: str
    status: str
    raw_key: str | None = None
    curated_key: str | None = None
    bytes: int | None = None
    rows: int | None = None
    sha256: str | None = None
    error: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    guesses: int | None = None  # archived: the doubtful decisions made reading a schema-free file (archiver/formats/sections.py)
    guess_notes: list[str] = field(default_factory=list)  # the first few of them, described


class RunFailedError(RuntimeError):
    """At least one month failed or is incomplete; raised after every month was processed."""


def incomplete(result: MonthResult) -> bool:
    """Archived (its new objects in place), but a later step (old raw removal, partition, markers) failed."""
    return result.status in ("archived", "unchanged") and result.error is not None


def payload(results: list[MonthResult]) -> dict[str, Any]:
    """The handler's return value."""
    return {"results": [asdict(r) for r in results]}


def _named(result: MonthResult) -> str:
    """A result's period, with its report type unless it is sales (whose messages stay as they were)."""
    return result.month if result.report == "sales" else f"{result.report} {result.month}"


def failures(results: list[MonthResult]) -> list[str]:
    """What a run's error says of its months: every failed month, then every incomplete one (none: an empty list)."""
    failed = [r for r in results if r.status == "failed"]
    unfinished = [r for r in results if incomplete(r)]
    parts = [f"{len(failed)} month(s) failed: " + "; ".join(f"{_named(r)}: {r.error}" for r in failed)] if failed else []
    if unfinished:
        detail = "; ".join(f"{_named(r)}: {r.error}" for r in unfinished)
        parts.append(f"{len(unfinished)} month(s) archived but incomplete (the next run finishes them): {detail}")
    return parts


def raise_if_failed(results: list[MonthResult]) -> None:
    """Raise naming every failed or incomplete month, so the invocation counts as a Lambda error."""
    if parts := failures(results):
        raise RunFailedError("; ".join(parts))
