"""`history YYYY-MM`: every version of a sales month Amazon served (the history objects) and what changed between them."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from rich.console import Console

from archiver.answers.history import HISTORY_COLUMNS, history_prefix
from archiver.core.months import Month
from archiver.formats.sales_csv import CuratedDialect
from archiver.storage.store import ArchiveStore
from cli import output
from cli.historydiff import Change, Row, Totals, compare, totals
from cli.target import Target


@dataclass(frozen=True)
class Version:
    """One version of the month: when the archive fetched it, the served file's SHA-256, and its curated rows."""

    fetched_at: str
    sha256: str
    rows: list[Row]


def versions(target: Target, month: Month) -> list[Version]:
    """The month's history objects, oldest fetch first, each read whole."""
    store = ArchiveStore(target.s3(), target.bucket, target.prefix)
    found: list[Version] = []
    for key in sorted(store.keys(history_prefix(store) + store.report.partition_path(month))):
        body = store.s3.get_object(**store.args(Key=key))["Body"].read()
        reader = csv.reader(io.StringIO(gzip.decompress(body).decode("utf-8"), newline=""), dialect=CuratedDialect)
        header = next(reader)
        rows = [dict(zip(header, values, strict=True)) for values in reader]
        stamp, _, sha256 = key.rsplit("/", 1)[1].removesuffix(".csv.gz").partition("-")  # a version without rows has only its name
        fetched = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%d %H:%M:%S")
        found.append(Version(fetched, sha256, [{k: v for k, v in row.items() if k not in HISTORY_COLUMNS} for row in rows]))
    return found


def document(month: Month, found: list[Version]) -> dict[str, Any]:
    """The versions and the changes between consecutive ones, as JSON-ready values."""
    changes = [compare(a.rows, b.rows) for a, b in itertools.pairwise(found)]

    def money(by_currency: dict[str, Totals]) -> dict[str, Any]:
        return {c: {**asdict(t), "sales": str(t.sales), "estimated_earnings": str(t.estimated_earnings)} for c, t in by_currency.items()}

    return {
        "month": str(month),
        "versions": [
            {"fetched_at": v.fetched_at, "source_sha256": v.sha256, "rows": len(v.rows), "totals": money(totals(v.rows))} for v in found
        ],
        "changes": [{"added": c.added, "removed": c.removed, "changed": c.changed, "totals": money(c.totals)} for c in changes],
    }


def print_history(out: Console, month: Month, found: list[Version]) -> None:
    """The versions as a table, then each change between consecutive versions with its totals per currency."""
    if not found:
        out.print(f"no history of {month} yet: no version archived, or the next runs still make its history copies")
        return
    rows = [(n, v.fetched_at, v.sha256[:12], len(v.rows)) for n, v in enumerate(found, 1)]
    output.print_result(out, ["version", "fetched_at (UTC)", "source_sha256", "rows"], rows, "table")
    for number, (before, after) in enumerate(itertools.pairwise(found), 2):
        change: Change = compare(before.rows, after.rows)
        out.print(
            f"\nversion {number - 1} → {number} (fetched {after.fetched_at}): "
            f"{change.added} row(s) added, {change.removed} removed, {change.changed} changed"
        )
        deltas = [(c or "(none)", t.rows, t.units, f"{t.sales:+f}", f"{t.estimated_earnings:+f}") for c, t in change.totals.items()]
        output.print_result(out, ["currency", "rows", "units", "sales", "estimated_earnings"], deltas, "table")
