"""API calls of a daily run in which nothing changed (after a backfill): report links, S3 and Glue writes, the lease's writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.backfill import backfilled
from bench.common import Bench, Row, median
from bench.local import ChildRun, run_handler

NAME = "daily"
SHARED = "daily_runs"  # the measured runs, reused by the cost benchmark
MAX_LINKS = 3
S3_WRITES = ("Put", "Create", "Upload", "Complete", "Copy", "Delete", "Abort", "Restore")
GLUE_WRITES = ("Create", "Update", "Delete", "Batch", "Put")


@dataclass(frozen=True)
class DailyRun:
    """One scheduled run over an unchanged archive: the child's report and the Appstore requests it made."""

    child: ChildRun
    appstore: dict[str, int]  # requests per emulator endpoint (token/report/download)

    def writes(self, service: str, verbs: tuple[str, ...], lease: bool = False) -> int:
        """AWS API calls of `service` whose operation name starts with one of `verbs`: the archive's, or the lease's own."""
        calls = self.child.calls.items()
        return sum(
            n
            for call, n in calls
            if call.startswith(f"{service}.") and call.split(".")[1].startswith(verbs) and call.endswith(" (lease)") == lease
        )


def measure(bench: Bench) -> list[DailyRun]:
    """Scheduled runs (event {}) in fresh processes against a backfilled stack; measured once per bench run."""
    if SHARED in bench.shared:
        return list(bench.shared[SHARED])
    stack = backfilled(bench)
    runs: list[DailyRun] = []
    for _ in range(bench.times(5)):
        before = stack.emulator.stats()
        child = run_handler(stack, {})
        after = stack.emulator.stats()
        if child.error or set(child.statuses) != {"unchanged"}:
            raise RuntimeError(f"a daily run over an unchanged archive did not find every month unchanged: {child}")
        counts = {e: sum(after.get(e, {}).values()) - sum(before.get(e, {}).values()) for e in ("token", "report", "download")}
        runs.append(DailyRun(child, counts))
    bench.shared[SHARED] = runs
    return runs


def run(bench: Bench) -> list[Row]:
    """Count report-link requests (emulator stats) and S3/Glue writes (botocore before-call hooks) per daily run."""
    runs = measure(bench)
    links = median(r.appstore["report"] for r in runs)
    s3 = median(r.writes("s3", S3_WRITES) for r in runs)
    glue = median(r.writes("glue", GLUE_WRITES) for r in runs)
    lease = median(r.writes("s3", S3_WRITES, lease=True) for r in runs)
    months = sum(runs[-1].child.statuses.values())  # the lease: taken, renewed before each month, released
    calls: Counter[str] = Counter(runs[-1].child.calls)
    detail = f"months {runs[-1].child.statuses}; Appstore requests {runs[-1].appstore}; AWS calls {dict(sorted(calls.items()))}"
    return [
        Row(NAME, "report-link requests per daily run", f"{links:.0f}", "—", None, f"≤ {MAX_LINKS}", links <= MAX_LINKS, detail),
        Row(NAME, "S3 writes per daily run", f"{s3:.0f}", "—", None, "0", s3 == 0),
        Row(NAME, "Glue writes per daily run", f"{glue:.0f}", "—", None, "0", glue == 0),
        Row(NAME, "lease writes per daily run", f"{lease:.0f}", "—", None, f"≤ {months + 2}", lease <= months + 2),
    ]
