"""`verify`: a read-only audit of every report type's periods, its table, and the prefix as a whole."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from archiver.core.months import Month
from archiver.core.report_types import BY_NAME, ReportType
from archiver.storage.lease import Lease
from cli.checks import Problem, check_partition, check_pending, check_raw, check_source, check_stray, check_uploads
from cli.curated import check_curated
from cli.fixes import Fixes
from cli.inventory import Archive, MonthRecord, ReportArchive, read_archive
from cli.tablechecks import check_odd_partitions, check_table
from cli.target import Target


def repair_pairs(problems: list[Problem]) -> list[dict[str, str]]:
    """The `repair` event's exact (report type, period) pairs: those of the repairable problems, within the function's range."""
    pairs = sorted({(str(p.report), str(p.month)) for p in problems if p.repairable})
    current = Month.of(datetime.now(UTC))
    within = [(r, p) for r, p in pairs if BY_NAME[r].first <= BY_NAME[r].parse_period(p) <= BY_NAME[r].period_of(current)]  # type: ignore[operator]
    return [{"report": r, "period": p} for r, p in within]


@dataclass(frozen=True)
class Audit:
    """The problems found and how much was looked at."""

    problems: list[Problem]
    months: int
    objects: int
    reports: tuple[str, ...] = ()
    guesses: dict[str, int] = field(default_factory=dict)  # "report period" -> heuristic guesses (curated metadata): not problems
    running: str | None = None  # "a run is in progress (holder, until …)" while the archive's lease is unexpired

    def repair(self) -> list[dict[str, str]]:
        """The pairs a `repair` event puts right: the repairable problems' (report type, period); none while a run is in progress."""
        return [] if self.running else repair_pairs(self.problems)

    def as_json(self) -> dict[str, Any]:
        """The `--json` document."""
        by_check = Counter(p.check for p in self.problems)
        return {
            "ok": not self.problems,
            "reports": list(self.reports),
            "months_checked": self.months,
            "objects_checked": self.objects,
            "problems": [{**asdict(p), "repairable": p.repairable} for p in self.problems],
            "summary": dict(sorted(by_check.items())),
            "guesses": self.guesses,
            "running": self.running,
        }


def running(target: Target) -> str | None:
    """Whether a run holds the archive's lease now (archiver.storage.lease reads and judges it, by S3's clock): who, and until when."""
    found = Lease(target.s3(), target.bucket, target.prefix, "verify").read()
    if found is None or found.expired:
        return None
    return f"a run is in progress ({found.holder}, until {found.until})"


def audit_period(s3: Any, part: ReportArchive, record: MonthRecord, fixes: Fixes, busy: str | None = None) -> list[Problem]:
    """Every per-period check for one period of one report type."""
    raw = check_raw(s3, part, record)
    readable = part.table.table is not None  # without its table, the type's one table problem says it all
    return [
        *raw,
        *(check_curated(s3, part, record) if readable else []),
        *check_source(part, record, raw_ok=not raw),
        *(check_partition(part, record, fixes) if readable else []),
        *check_pending(part, record, busy),
    ]


def audit(target: Target, reports: tuple[ReportType, ...], archive: Archive | None = None) -> Audit:
    """Audit the archive: every period of each chosen type, its table, the stray keys and the open uploads."""
    busy = running(target)
    archive = archive or read_archive(target, reports)
    busy = busy or running(target)  # read again after the listing: a run that started during it may have listed its marker
    s3, fixes = target.s3(), Fixes.of(target)
    work = [(part, record) for part in archive.reports.values() for record in part.months.values()]
    with ThreadPoolExecutor(max_workers=4) as pool:
        per_period = list(pool.map(lambda job: audit_period(s3, job[0], job[1], fixes, busy), work))
    problems = [
        *(p for part in archive.reports.values() for p in check_table(part)),
        *(p for part in archive.reports.values() for p in check_odd_partitions(part, fixes)),
        *(p for found in per_period for p in found),
        *check_stray(archive.stray, fixes),
        *check_uploads(archive.uploads, fixes, busy),
    ]
    objects = sum(len(r.raw) + (r.curated is not None) for _, r in work)
    return Audit(problems, len(work), objects, tuple(archive.reports), guessed(work), busy)


def guessed(work: list[tuple[ReportArchive, MonthRecord]]) -> dict[str, int]:
    """The periods whose curated file was written with heuristic guesses, and how many (rows kept whole in `cells`)."""
    counts = {f"{part.report.name} {r.month}": r.curated.metadata.get("guesses", "") for part, r in work if r.curated}
    return {period: int(n) for period, n in sorted(counts.items()) if n.isdigit() and int(n) > 0}
