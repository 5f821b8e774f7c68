"""`verify`: a read-only audit of every month and of the prefix as a whole."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from cli.archive import Archive, MonthRecord, read_archive
from cli.checks import (
    Problem,
    check_curated,
    check_partition,
    check_pending,
    check_raw,
    check_source,
    check_stray,
    check_table,
    check_uploads,
)
from cli.target import Target


@dataclass(frozen=True)
class Audit:
    """The problems found and how much was looked at."""

    problems: list[Problem]
    months: int
    objects: int

    def repair_months(self) -> list[str]:
        """The months whose problems a forced run of those months repairs."""
        return sorted({p.month for p in self.problems if p.repairable and p.month})

    def as_json(self) -> dict[str, Any]:
        """The `--json` document."""
        by_check = Counter(p.check for p in self.problems)
        return {
            "ok": not self.problems,
            "months_checked": self.months,
            "objects_checked": self.objects,
            "problems": [{**asdict(p), "repairable": p.repairable} for p in self.problems],
            "summary": dict(sorted(by_check.items())),
        }


def audit_month(s3: Any, archive: Archive, record: MonthRecord, columns: list[str]) -> list[Problem]:
    """Every per-month check for one month."""
    bucket = archive.store.bucket
    raw = check_raw(s3, bucket, record)
    return [
        *raw,
        *check_curated(s3, bucket, record, columns),
        *check_source(record, raw_ok=not raw),
        *check_partition(archive, record),
        *check_pending(record),
    ]


def audit(target: Target, archive: Archive | None = None) -> Audit:
    """Audit the archive: every month, the stray keys, the open uploads and the table's SerDe."""
    archive = archive or read_archive(target)
    s3 = target.s3()
    columns = [c["Name"] for c in archive.table.get("StorageDescriptor", {}).get("Columns", [])]
    records = list(archive.months.values())
    with ThreadPoolExecutor(max_workers=4) as pool:
        per_month = list(pool.map(lambda record: audit_month(s3, archive, record, columns), records))
    problems = [
        *check_table(archive.table),
        *(p for found in per_month for p in found),
        *check_stray(archive.stray),
        *check_uploads(archive.uploads),
    ]
    objects = sum(len(r.raw) + (r.curated is not None) for r in records)
    return Audit(problems, len(records), objects)
